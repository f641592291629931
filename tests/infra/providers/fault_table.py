"""What every provider's fault table shares: the faults, how one row is judged, and the totals.

A row injects one fault into one step (create, read, update, delete) of a
resource in a fake cloud, and records:

* the outcome: the step succeeded, or failed with which message; it must be
  the expected one (a status worth another try is retried and the step
  succeeds; any other fails at once, naming the status; ``NOT_FOUND`` on a
  read or delete means gone);
* converged: the faults stop and the step runs again, as the next
  ``pulumi up`` or ``destroy`` would, and the cloud holds what was asked
  (``None`` where no rerun can fix it: someone else's resource in the way);
* harmed: a resource live before the step (not the one a delete was asked to
  delete) is gone afterwards, or someone else's was changed;
* orphaned: a resource in the cloud that no state records.

The totals per provider are printed at the end of the session
(``tests/infra/providers/conftest.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import pytest
from pulumi.dynamic import ResourceProvider

from infra.providers.yandex.errors import YandexApiError
from tests.infra.providers.yandex.fake_cloud import CloudState

STATUSES = tuple(code for code in grpc.StatusCode if code is not grpc.StatusCode.OK)
# The table's own judgement of what is worth another try (issue 24), not the provider's list:
# unreachable, slow, failed inside, or a concurrent change won. A used-up quota is not.
RETRIED = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.ABORTED,
    }
)
SUCCEEDS = None


@dataclass(frozen=True)
class Fault:
    name: str
    step: str
    inject: Callable[[Any], None]
    # SUCCEEDS, or a pattern the step's error matches.
    fails_with: str | None = SUCCEEDS
    # False: no rerun can fix it (someone else's resource holds the name); the rerun must refuse again.
    fixable: bool = True
    # What the world must be before the step (beyond what the step itself needs).
    prepare: Callable[[Any], None] | None = None
    # What the operator mends before the rerun (beyond the faults stopping).
    repair: Callable[[Any], None] | None = None
    # The step may also succeed: the fault's status leads to an adoption of what the step itself made,
    # which works when the cloud has finished making it (a race the table does not fix).
    may_succeed: bool = False


@dataclass
class World:
    """One row's cloud and the resource as Pulumi's state has it; a provider's table fills it in."""

    state: CloudState
    monkeypatch: pytest.MonkeyPatch
    resource_id: str = ""
    outs: dict[str, Any] = field(default_factory=dict)
    # ids some other state records: what this resource needs, someone else's
    others: set[str] = field(default_factory=set)
    theirs: set[str] = field(default_factory=set)

    def snapshot(self) -> dict[str, str]:
        """Every resource in the cloud: id -> what it holds (a change of it shows)."""
        raise NotImplementedError

    def provider(self) -> ResourceProvider:
        raise NotImplementedError

    def inputs(self, *, updated: bool = False) -> dict[str, Any]:
        """The checked inputs of the create, or of the update (`updated`)."""
        raise NotImplementedError

    def plant(self, *, ours: bool) -> str:
        """One of the name made outside this run (an earlier run's, its state lost; or someone else's)."""
        raise NotImplementedError

    def converged(self, step: str) -> None:
        """The cloud holds what the last step asked for, and Pulumi's state says so (or raise)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Verdict:
    fault: Fault
    outcome: str
    problem: str
    converged: bool | None
    harmed: tuple[str, ...]
    orphaned: tuple[str, ...]


W = TypeVar("W", bound=World)

# provider -> its rows' verdicts, printed at the end of the session
TABLES: dict[str, list[Verdict]] = {}


def do_create(world: World) -> None:
    created = world.provider().create(world.inputs())
    world.resource_id, world.outs = created.id, dict(created.outs or {})


def do_update(world: World) -> None:
    updated = world.provider().update(world.resource_id, world.outs, world.inputs(updated=True))
    world.outs = dict(updated.outs or {})


def do_read(world: World) -> None:
    read = world.provider().read(world.resource_id, world.outs)
    # An empty id: gone from the cloud, so refresh drops it from the state.
    world.resource_id, world.outs = str(read.id or ""), dict(read.outs or {})


def do_delete(world: World) -> None:
    world.provider().delete(world.resource_id, world.outs)
    world.resource_id, world.outs = "", {}


STEPS: dict[str, Callable[[World], None]] = {
    "create": do_create,
    "update": do_update,
    "read": do_read,
    "delete": do_delete,
}


def settle(state: CloudState) -> None:
    """Every operation started has finished (as it does in the cloud, whoever waits for it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with state.lock:
            if all(op.done for op in state.operations.values()):
                return
        time.sleep(0.005)
    raise AssertionError("an operation never finished")


def calm(world: World) -> None:
    """The faults stop."""
    settle(world.state)
    world.state.faults.clear()
    world.state.lost_answers.clear()
    world.state.broken_lists.clear()
    world.state.read_only_tokens.clear()


def run_row(fault: Fault, world: World, secrets: Sequence[str] = ()) -> Verdict:
    """One row on a fresh cloud: the world made ready for the step, then judged."""
    if fault.step != "create":
        do_create(world)
    if fault.prepare is not None:
        fault.prepare(world)

    def rerun(world: World) -> None:
        if fault.step == "read" and not world.resource_id:
            # Refresh dropped it: the next up creates it again.
            do_create(world)
            world.converged("create")
        elif fault.step == "delete" and not world.resource_id:
            # Destroyed: gone from the state, nothing left to run.
            world.converged("delete")
        else:
            STEPS[fault.step](world)
            world.converged(fault.step)

    return judge(fault, world, step=STEPS[fault.step], rerun=rerun, calm=calm, secrets=secrets)


def retried(code: grpc.StatusCode, method: str) -> bool:
    """Whether the providers try this status again: the transient ones, and a rate limit on a read.

    A read, a list or an operation's poll uses up no quota, so RESOURCE_EXHAUSTED there is the
    request-rate limit (infra/providers/yandex/api.py); on a mutating call it is a used-up quota.
    """
    reads = method.rsplit(".", 1)[-1].startswith(("Get", "List"))
    return code in RETRIED or (code is grpc.StatusCode.RESOURCE_EXHAUSTED and reads)


def status_faults(
    step: str,
    methods: Iterable[str],
    inject: Callable[[str, grpc.StatusCode], Callable[[Any], None]],
    *,
    gone_at: Iterable[str] = (),
    untrue: Iterable[str] = (),
    adopted_at: Iterable[str] = (),
    **extra: Any,
) -> list[Fault]:
    """Each status once at the first call of each method the step makes.

    ``gone_at``: methods whose ``NOT_FOUND`` means the resource is gone, so the
    step has nothing to do; ``untrue``: methods whose ``NOT_FOUND`` about a
    resource that exists the API does not give (a delete told its target is
    gone rightly takes it as done), left out; ``adopted_at``: methods after which
    ``ALREADY_EXISTS`` makes a create adopt what it made itself (it may succeed).
    """
    faults = []
    for method in methods:
        for code in STATUSES:
            gone = code is grpc.StatusCode.NOT_FOUND and method in gone_at
            if code is grpc.StatusCode.NOT_FOUND and method in untrue:
                continue
            again = retried(code, method)
            expected = SUCCEEDS if again or gone else rf"\({code.name}\b"
            what = "retried" if again else ("gone" if gone else "fails")
            adopts = code is grpc.StatusCode.ALREADY_EXISTS and method in adopted_at
            faults.append(
                Fault(
                    f"{code.name} on {method} ({'may adopt' if adopts else what})",
                    step,
                    inject(method, code),
                    expected,
                    may_succeed=adopts,
                    **extra,
                )
            )
    return faults


def exhausted_faults(
    step: str, method: str, inject: Callable[..., Callable[[Any], None]], attempts: int
) -> list[Fault]:
    """Each retried status at every attempt: the step gives up, saying what it tried."""
    return [
        Fault(
            f"{code.name} on every attempt of {method}",
            step,
            inject(method, *[code] * attempts),
            rf"\({code.name}.*gave up after {attempts} attempts in [\d.]+ s: {code.name}",
        )
        for code in sorted(RETRIED, key=lambda c: c.name)
    ]


def _outcome(fault: Fault, world: W, step: Callable[[W], None], secrets: Sequence[str]) -> tuple[str, str]:
    """Run the step under the fault: (what happened, what is wrong with that, if anything)."""
    with pytest.MonkeyPatch.context() as during:
        world.monkeypatch = during
        fault.inject(world)
        try:
            step(world)
            error: str | None = None
        except YandexApiError as failed:
            error = str(failed)
    if error is None:
        expected = fault.fails_with is SUCCEEDS or fault.may_succeed
        return "succeeded", ("" if expected else "succeeded, but should have failed")
    if fault.fails_with is SUCCEEDS:
        return error, f"failed: {error}"
    if not re.search(fault.fails_with, error):
        return error, f"wrong message: {error}"
    if any(value in error for value in secrets):
        return error, "the message carries a secret value"
    return error, ""


def judge(
    fault: Fault,
    world: W,
    *,
    step: Callable[[W], None],
    rerun: Callable[[W], None],
    calm: Callable[[W], None],
    secrets: Sequence[str] = (),
) -> Verdict:
    """One row: the step under the fault, then the rerun, and what the cloud holds after."""
    before = world.snapshot()
    target = world.resource_id if fault.step == "delete" else ""
    outcome, problem = _outcome(fault, world, step, secrets)
    calm(world)
    if fault.repair is not None:
        fault.repair(world)
    converged: bool | None = None
    try:
        rerun(world)
        converged = fault.fixable or None
        if not fault.fixable:
            problem = problem or "the rerun took over someone else's resource"
    except (YandexApiError, AssertionError) as error:
        converged = False if fault.fixable else None
        if fault.fixable:
            problem = problem or f"the rerun did not converge: {error}"
    calm(world)
    after = world.snapshot()
    harmed = tuple(
        sorted(
            key
            for key, held in before.items()
            if (key not in after and key != target) or (key in world.theirs and after.get(key) != held)
        )
    )
    recorded = {world.resource_id, *world.others, *world.theirs}
    orphaned = tuple(sorted(set(after) - recorded))
    return Verdict(fault, outcome, problem, converged, harmed, orphaned)


def summary(provider: str, verdicts: Sequence[Verdict]) -> str:
    fixable = [v for v in verdicts if v.fault.fixable]
    return (
        f"{provider} fault table: faults injected {len(verdicts)} / converged "
        f"{sum(v.converged is True for v in fixable)} of {len(fixable)} a rerun can fix / harmed "
        f"{sum(bool(v.harmed) for v in verdicts)} / orphaned {sum(bool(v.orphaned) for v in verdicts)} / "
        f"outcome as expected {sum(not v.problem for v in verdicts)}"
    )


def render(verdicts: Sequence[Verdict]) -> str:
    lines = []
    for v in verdicts:
        flags = "ok  " if not (v.problem or v.harmed or v.orphaned) else "FAIL"
        extra = "".join(
            f" {label} {', '.join(ids)}"
            for label, ids in (("harmed", v.harmed), ("orphaned", v.orphaned))
            if ids
        )
        converged = {True: "yes", False: "NO", None: "n/a"}[v.converged]
        lines.append(
            f"  {flags} {v.fault.step:6} converged {converged:3} {v.fault.name}{extra}"
            + (f": {v.problem}" if v.problem else "")
        )
    return "\n".join(lines)


def assert_table(provider: str, verdicts: list[Verdict]) -> None:
    TABLES[provider] = verdicts
    table = render(verdicts)
    print(f"\n{summary(provider, verdicts)}\n{table}")
    assert not [v for v in verdicts if v.harmed], table
    assert not [v for v in verdicts if v.orphaned], table
    assert all(v.converged for v in verdicts if v.fault.fixable), table
    assert not [v for v in verdicts if v.problem], table
