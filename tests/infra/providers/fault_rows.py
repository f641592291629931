"""The faults every provider's table injects alike, and the rows built from them.

Each injection changes one row's world (``tests/infra/providers/fault_table.py``):
a status on a method's next calls, an answer lost, an operation slower than
the wait, a resource of the name planted, a list that never ends, a read-only token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc

from infra.providers.yandex import api as yandex_api
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from tests.infra.providers.fault_table import Fault, World, exhausted_faults, status_faults
from tests.infra.providers.yandex import fake_cloud


def fail(method: str, *codes: grpc.StatusCode) -> Callable[[World], None]:
    def inject(world: World) -> None:
        world.state.faults[method] = list(codes)

    return inject


def lose(method: str, *, retries: bool = True) -> Callable[[World], None]:
    def inject(world: World) -> None:
        world.state.lost_answers[method] = 1
        if not retries:
            # The run ends at the lost answer, as a killed `pulumi up` does.
            world.monkeypatch.setattr(yandex_api, "RETRY", yandex_api.RetryPolicy(attempts=1))

    return inject


def slow_operations(world: World) -> None:
    world.monkeypatch.setattr(yandex_api.YandexApi, "operation_timeout_seconds", 0.05)
    # Far past the wait, even on a loaded machine.
    world.monkeypatch.setattr(fake_cloud, "OPERATION_SECONDS", 1.0)


def orphan(world: World) -> None:
    world.others.add(world.plant(ours=True))


def foreign(world: World) -> None:
    world.theirs.add(world.plant(ours=False))


def broken_list(kind: str, method: str) -> Callable[[World], None]:
    def inject(world: World) -> None:
        world.monkeypatch.setattr(yandex_api, "MAX_PAGES", 5)
        world.state.broken_lists[method] = kind

    return inject


def read_only(world: World) -> None:
    world.state.read_only_tokens.add("t1.viewer")
    world.monkeypatch.setenv(IAM_TOKEN_ENV, "t1.viewer")


def lost_faults(places: Iterable[tuple[str, str, Callable[[Any], None] | None]]) -> list[Fault]:
    """Each mutating call's answer lost: retried with its idempotency key, or the run ending there."""
    return [
        Fault(
            f"{method} answer lost{'' if retries else ', the run ends there'}",
            step,
            lose(method, retries=retries),
            None if retries else r"\(UNAVAILABLE",
            prepare=prepare,
        )
        for step, method, prepare in places
        for retries in (True, False)
    ]


def shared_faults(create: str, list_: str, denied: str) -> list[Fault]:
    """What every resource's table holds beyond the statuses: retries used up, slow operations,
    names taken (by an earlier run, by someone else), broken lists, a read-only token."""
    return [
        *exhausted_faults("create", create, fail, yandex_api.RETRY.attempts),
        Fault(
            "create operation outlives the wait, then succeeds", "create", slow_operations, "did not finish"
        ),
        Fault("ALREADY_EXISTS, labelled as ours: adopted", "create", orphan),
        Fault(
            "ALREADY_EXISTS, labelled as someone else's: left alone",
            "create",
            foreign,
            r"ALREADY_EXISTS.*not as this stack's",
            fixable=False,
        ),
        Fault(
            "adopting: List repeats its page token",
            "create",
            broken_list("repeat", list_),
            "a second time",
            prepare=orphan,
        ),
        Fault(
            "adopting: List never ends",
            "create",
            broken_list("endless", list_),
            "within 5 pages",
            prepare=orphan,
        ),
        Fault("PERMISSION_DENIED on Create (a read-only token)", "create", read_only, denied),
    ]


def adopting(methods: Iterable[str]) -> list[Fault]:
    """Each status at the first call of each method a create that adopts an earlier run's makes."""
    return [
        Fault(f"adopting: {f.name}", f.step, f.inject, f.fails_with, prepare=orphan)
        for f in status_faults("create", methods, fail)
    ]
