# Entry points. On a fresh machine `make synth` and `make test` create the
# virtualenv (.venv, the one Pulumi.yaml names) and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The default stack first; prod too, so that both builds can be read side by side.
STACKS ?= staging prod

.PHONY: help tools kube-dryrun synth test quick bench bench-backup bench-rehearsal constraints clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

TOOLS := .tools/bin

$(BIN)/.installed: pyproject.toml constraints.txt
	@echo "installing into $(VENV) (first run takes about a minute) ..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# promtool, amtool, prometheus, alertmanager, PostgreSQL 15, barman-cloud, faketime:
# the tests run the real ones.
$(TOOLS)/.installed: scripts/install-tools policy/requirements.txt
	scripts/install-tools
	@touch $@

tools: $(TOOLS)/.installed ## install the programs the tests run (Prometheus, Alertmanager, PostgreSQL, barman-cloud) into .tools

# etcd and the upstream apiextensions-apiserver that judge every custom resource
# (tests/test_kube_dryrun.py): about 10 minutes once on 2 cores, then cached.
KUBE_DRYRUN := .tools/kube-apiserver/installed

$(KUBE_DRYRUN): scripts/install-kube-dryrun tools/kube-dryrun/main.go
	scripts/install-kube-dryrun
	@touch $@

kube-dryrun: $(KUBE_DRYRUN) ## install the Kubernetes API server the custom resources are dry-run against

synth: $(BIN)/.installed ## render build/STACK/ offline for each of STACKS (staging prod)
	$(BIN)/samokoder-infra synth $(STACKS)

test: $(BIN)/.installed $(TOOLS)/.installed $(KUBE_DRYRUN) ## secret scan, lint, types and the test suite
	$(BIN)/pre-commit run detect-secrets --all-files
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest

# The tests without the `tool` marker, one process per core (a test file stays
# in one process, so that its module fixtures are made once). make test runs
# all of them in one process, the real tools' work in threads beside them.
quick: $(BIN)/.installed ## lint, types and the tests that need no real tool or server (under a minute)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -m "not tool and not slow" -n auto --dist loadfile

bench: $(BIN)/.installed ## synth CPU per stack against a bare import of the SDKs: prints the ratio, a figure not a gate
	$(BIN)/python benchmarks/synth_benchmark.py

bench-backup: $(BIN)/.installed $(TOOLS)/.installed ## backup and restore times of the drill (ROWS=50000 per batch)
	$(BIN)/python benchmarks/backup_drill.py --rows $(or $(ROWS),50000)

bench-rehearsal: $(BIN)/.installed $(TOOLS)/.installed ## restore and migration-rehearsal times of a database of GIB GiB plus WAL_GIB GiB of WAL to replay (GIB=0.05 WAL_GIB=0; prod's settings)
	$(BIN)/python benchmarks/rehearsal_drill.py --gib $(or $(GIB),0.05) --wal-gib $(or $(WAL_GIB),0)

constraints: $(BIN)/.installed ## re-pin constraints.txt from the virtualenv
	{ echo "# Exact versions CI and operators install: regenerate with 'make constraints'."; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^samokoder'; } > constraints.txt

clean: ## remove build output, the virtualenv and .tools
	rm -rf build $(VENV) .tools
