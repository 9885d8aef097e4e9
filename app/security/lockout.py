"""Failed-login back-off and lockout (pure): each failure makes the next try wait longer, and after
`max_failures` in a row the account is locked out until an administrator unlocks it or `lockout_s`
passes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5
    lockout_s: float = 900.0
    backoff_base_s: float = 1.0  # wait after the first failure; doubles with each further one
    backoff_max_s: float = 30.0


@dataclass(frozen=True, slots=True)
class AfterFailure:
    failures: int
    locked_until: float
    locked_out: bool  # this failure reached the limit (reported to the administrator)


def after_failure(failures: int, now: float, policy: LockoutPolicy) -> AfterFailure:
    n = failures + 1
    if n >= policy.max_failures:
        return AfterFailure(n, now + policy.lockout_s, True)
    wait = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (n - 1))
    return AfterFailure(n, now + wait, False)


def wait_left(locked_until: float | None, now: float) -> float:
    return 0.0 if locked_until is None else max(0.0, locked_until - now)
