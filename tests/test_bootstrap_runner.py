"""scripts/bootstrap-runner in dry-run: prod's runner network, address and VM with documented yc flags,
a cloud-init that installs the pinned runner, and the registration token never in the output."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "bootstrap-runner"
TOKEN = "AABBCC1234TOKENNOTTOSHOW99"  # a stand-in: shown nowhere
FOLDER = "b1gprod0000000000001"
REPO = "acme/samokoder-infra"
# The flags each command takes, as the yc CLI reference lists them (yandex-cloud/docs,
# en/cli/cli-ref/<service>/cli-ref/<group>/<command>.md), plus the global --folder-id.
DOCUMENTED_FLAGS = {
    "vpc network create": {"--name", "--description", "--labels", "--async"},
    "vpc subnet create": {"--name", "--description", "--labels", "--zone", "--network-id", "--network-name"}
    | {"--route-table-id", "--route-table-name", "--range", "--domain-name", "--async"},
    "vpc security-group create": {"--name", "--description", "--labels", "--network-id", "--network-name"}
    | {"--rule", "--async"},
    "vpc address create": {"--name", "--async", "--description", "--labels", "--external-ipv4"}
    | {"--internal-ipv4", "--deletion-protection", "--dns-record"},
    "compute instance create": {"--name", "--description", "--labels", "--zone", "--metadata"}
    | {"--metadata-from-file", "--create-boot-disk", "--network-interface", "--memory", "--cores"}
    | {"--core-fraction", "--platform", "--hostname", "--service-account-id", "--async"},
}
GLOBAL_FLAGS = {"--folder-id"}


def bootstrap_runner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_DIR,
        env={**{k: v for k, v in os.environ.items() if k != "RUNNER_REGISTRATION_TOKEN"}, **(env or {})},
    )


@pytest.fixture(scope="module")
def planned() -> str:
    result = bootstrap_runner(
        "--dry-run", "--folder-id", FOLDER, "--github-repo", REPO, "--registration-token", TOKEN
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def commands(output: str) -> dict[str, list[str]]:
    """Each planned `yc` command's words, by its command path (the words before the first flag)."""
    found = {}
    for line in output.splitlines():
        if line.startswith("+ yc "):
            words = shlex.split(line[2:])
            path = " ".join(w for w in words[1 : words.index(next(w for w in words if w.startswith("--")))])
            found[path] = words
    return found


def flags(words: list[str]) -> dict[str, str]:
    return {
        w: words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("--") else ""
        for i, w in enumerate(words)
        if w.startswith("--")
    }


def cloud_init(output: str) -> dict[str, Any]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("+ cloud-init user-data")) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("+ "))
    assert lines[start] == "#cloud-config"
    loaded: dict[str, Any] = yaml.safe_load("\n".join(lines[start:end]))
    return loaded


def test_the_token_is_never_printed_whether_given_as_a_flag_or_in_the_environment(planned: str) -> None:
    assert TOKEN not in planned
    from_env = bootstrap_runner(
        "--dry-run", "--folder-id", FOLDER, "--github-repo", REPO, env={"RUNNER_REGISTRATION_TOKEN": TOKEN}
    )
    assert from_env.returncode == 0, from_env.stderr
    assert TOKEN not in from_env.stdout + from_env.stderr
    assert "--token <hidden>" in from_env.stdout


def test_every_planned_command_uses_only_documented_flags(planned: str) -> None:
    planned_commands = commands(planned)
    assert list(planned_commands) == list(DOCUMENTED_FLAGS)
    for path, words in planned_commands.items():
        unknown = set(flags(words)) - DOCUMENTED_FLAGS[path] - GLOBAL_FLAGS
        assert not unknown, (path, unknown)
        assert flags(words)["--folder-id"] == FOLDER, path


def test_the_runner_has_its_own_network_no_ingress_and_leaves_from_the_reserved_address(planned: str) -> None:
    c = {path: flags(words) for path, words in commands(planned).items()}
    name = c["vpc network create"]["--name"]
    assert c["vpc subnet create"]["--network-name"] == name
    assert c["vpc security-group create"]["--network-name"] == name
    rules = [w for w in commands(planned)["vpc security-group create"] if w.startswith("direction=")]
    assert rules == ["direction=egress,port=any,protocol=any,v4-cidrs=[0.0.0.0/0]"]
    zone = c["vpc subnet create"]["--zone"]
    assert c["vpc address create"]["--external-ipv4"] == f"zone={zone}"
    assert "--deletion-protection" in c["vpc address create"]
    vm = c["compute instance create"]
    assert vm["--zone"] == zone
    nic = dict(part.split("=", 1) for part in vm["--network-interface"].split(","))
    assert nic["subnet-name"] == name
    assert nic["nat-ip-version"] == "ipv4"
    assert nic["nat-address"] == f"<reserved address {name}>"
    assert nic["security-group-ids"] == f"<id of security group {name}>"
    disk = dict(part.split("=", 1) for part in vm["--create-boot-disk"].split(","))
    assert (disk["image-folder-id"], disk["image-family"]) == ("standard-images", "ubuntu-2404-lts")
    assert vm["--metadata-from-file"].startswith("user-data=")
    # The address goes into prod's allow-list as a /32.
    assert f"cluster.api_allowed_cidrs: [<reserved address {name}>/32]" in planned


def test_cloud_init_installs_the_pinned_runner_and_the_tools_prods_jobs_run(planned: str) -> None:
    config = cloud_init(planned)
    assert {"skopeo", "make", "python3-venv", "jq"} <= set(config["packages"])
    # Prod's jobs build nothing; the docker group would make every job's code root on the VM.
    assert not {"docker.io", "docker-ce"} & set(config["packages"])
    assert "docker" not in config["write_files"][0]["content"]
    (install,) = config["write_files"]
    script = install["content"]
    assert install["permissions"] == "0700"
    version = re.search(r"^RUNNER_VERSION=(\S+)$", SCRIPT.read_text(), re.M)
    sha = re.search(r"^RUNNER_SHA256=([0-9a-f]{64})$", SCRIPT.read_text(), re.M)
    assert version
    assert sha
    url = f"https://github.com/actions/runner/releases/download/v{version[1]}/actions-runner-linux-x64-{version[1]}.tar.gz"
    assert f"curl -fsSL -o runner.tar.gz {url}\n" in script
    assert f'echo "{sha[1]}  runner.tar.gz" | sha256sum -c -\n' in script
    # Checked before it is unpacked, registered as the unprivileged user, then run as a service.
    order = [
        "sha256sum -c",
        "tar xzf",
        "sudo -u runner ./config.sh",
        "./svc.sh install runner",
        "./svc.sh start",
    ]
    assert [script.index(step) for step in order] == sorted(script.index(step) for step in order)
    config_line = next(line for line in script.splitlines() if "./config.sh" in line)
    options = flags(shlex.split(config_line))
    assert options["--url"] == f"https://github.com/{REPO}"
    assert options["--labels"] == runs_on(planned)[-1]
    assert "--unattended" in options
    assert config["runcmd"][0] == ["bash", install["path"]]


def runs_on(output: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.strip().startswith("runs-on: ")]
    labels: list[str] = json.loads(line.split("runs-on: ", 1)[1])
    return labels


def test_it_says_which_labels_select_it(planned: str) -> None:
    assert runs_on(planned)[:3] == ["self-hosted", "linux", "x64"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--github-repo", REPO, "--registration-token", TOKEN), "--folder-id is required"),
        (("--folder-id", FOLDER, "--registration-token", TOKEN), "--github-repo OWNER/REPO is required"),
        (("--folder-id", FOLDER, "--github-repo", REPO), "--registration-token"),
        (
            ("--folder-id", FOLDER, "--github-repo", "acme", "--registration-token", TOKEN),
            "is not OWNER/REPO",
        ),
        (("--folder-id", FOLDER, "--github-repo", REPO, "--registration-token", "x;rm -rf /"), "characters"),
    ],
)
def test_missing_or_bad_arguments_are_refused_without_echoing_the_token(
    args: tuple[str, ...], message: str
) -> None:
    result = bootstrap_runner("--dry-run", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "x;rm" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout
