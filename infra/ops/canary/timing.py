"""How long a canary release takes with a stack's settings, computed from them.

The judged part is exact: each weight runs one analysis window before its
verdict (``analysis_minutes`` each), and an inconclusive window is judged
again up to ``inconclusive_retries`` times. The updates around it are
bounded, not known: the migration waits at most for its backup and its Job's
deadline (infra/render/workloads/migrations.py), and the rollouts take what
the pods take to become ready.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.render.workloads.migrations import JOB_DEADLINE_SECONDS
from infra.settings.canary import CanaryProfile
from infra.settings.stack import StackSettings


@dataclass(frozen=True)
class ReleaseTime:
    profile: CanaryProfile
    migration_deadline_minutes: int

    @property
    def weights(self) -> tuple[int, ...]:
        return self.profile.weights

    @property
    def window_minutes(self) -> int:
        return self.profile.analysis_minutes

    @property
    def retries(self) -> int:
        return self.profile.inconclusive_retries

    @property
    def judged_minutes(self) -> int:
        return self.profile.judged_minutes()

    @property
    def longest_judged_minutes(self) -> int:
        return self.profile.longest_judged_minutes()

    def lines(self) -> list[str]:
        steps = " -> ".join(f"{w} %" for w in self.weights)
        return [
            f"steps: {steps} -> promote, each judged over {self.window_minutes} min",
            f"judged: {self.judged_minutes} min when every window decides "
            f"(at most {self.longest_judged_minutes} min with {self.retries} retry(ies) per step)",
            f"plus the updates: a migration, when the release moves the schema, waits at most "
            f"{self.migration_deadline_minutes} min; the canary's and the promotion's rollouts, what "
            "the pods take to become ready",
        ]


def release_minutes(settings: StackSettings) -> ReleaseTime:
    return ReleaseTime(settings.canary, migration_deadline_minutes=JOB_DEADLINE_SECONDS // 60)
