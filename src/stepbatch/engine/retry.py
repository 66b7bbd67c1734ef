"""How often and how soon a failing unit is tried again: attempts, backoff and re-logins in a row."""

from __future__ import annotations

import random
from dataclasses import dataclass

from stepbatch.engine.options import RunOptions

MAX_RELOGINS_IN_A_ROW = 3


@dataclass(frozen=True)
class RetryPolicy:
    """The retry rules of one run (contracts.md, "Engine: run_account").

    Attempts count failures in a row without progress: a code of hundreds of products meets unrelated
    errors far apart over hours, and each item done proves it can go on. Re-logins (`SessionExpired`)
    cost no attempt until `relogins_in_a_row` of them came without progress between (an item started,
    a checkpoint that changed, an item edited, done or failed); then the retry starts logged in again.
    """

    max_attempts: int = 3
    backoff_base: float = 2.0  # seconds; exponential with full jitter
    backoff_max: float = 60.0
    relogins_in_a_row: int = MAX_RELOGINS_IN_A_ROW

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError(f"backoff must not be negative, got {self.backoff_base:g}/{self.backoff_max:g}")
        if self.relogins_in_a_row < 0:
            raise ValueError(f"relogins_in_a_row must not be negative, got {self.relogins_in_a_row}")

    @classmethod
    def from_options(cls, options: RunOptions) -> RetryPolicy:
        return cls(
            max_attempts=options.max_attempts,
            backoff_base=options.backoff_base,
            backoff_max=options.backoff_max,
        )

    def attempt(self, stored_attempts: int, *, progressed: bool) -> int:
        """The number of the attempt that just failed: a call that finished an item starts again at 1."""
        return 1 if progressed else stored_attempts + 1

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter: `uniform(0, min(max, base·2^(attempt-1)))`."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling)


class ReloginStreak:
    """Re-logins of one unit since it last made progress, whoever logged in (the engine or the site)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.count = 0

    def take(self) -> bool:
        """Count one more re-login; False (nothing counted) when the policy's cap in a row is reached."""
        if self.count >= self.policy.relogins_in_a_row:
            return False
        self.count += 1
        return True

    def reset(self) -> None:
        self.count = 0


__all__ = ["MAX_RELOGINS_IN_A_ROW", "ReloginStreak", "RetryPolicy"]
