"""Every provider test retries as the providers do, only with waits of milliseconds."""

from __future__ import annotations

import pytest

from infra.providers.yandex import api


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        api, "RETRY", api.RetryPolicy(attempts=api.RETRY.attempts, first_delay=0.001, max_delay=0.004)
    )
