"""Every provider test retries as the providers do, only with waits of milliseconds."""

from __future__ import annotations

import pytest

from infra.providers.yandex import api


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        api, "RETRY", api.RetryPolicy(attempts=api.RETRY.attempts, first_delay=0.001, max_delay=0.004)
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Each provider's fault table totals (tests/infra/providers/fault_table.py), when one ran."""
    from tests.infra.providers.fault_table import TABLES, summary  # noqa: PLC0415

    for provider, verdicts in sorted(TABLES.items()):
        terminalreporter.write_line(summary(provider, verdicts))
