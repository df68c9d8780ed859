"""The faults the mock payment service's webhook delivery can inject (MOCK_PAY_FAULTS), parsed
without any dependency so that configuration can check them at start-up."""

from __future__ import annotations

from collections.abc import Iterable

# duplicate: each event sent twice; reorder: a run's events newest first; delay: each event's
# first attempt 30 s late; drop: marked delivered without being sent (a lost webhook);
# bad_signature: signed with a wrong secret.
FAULTS = ("duplicate", "reorder", "delay", "drop", "bad_signature")


def parse_faults(value: str | Iterable[str] | None) -> frozenset[str]:
    """The set of faults named by a comma list (MOCK_PAY_FAULTS) or an iterable; ValueError for
    an unknown name."""
    if value is None:
        return frozenset()
    names = value.split(",") if isinstance(value, str) else list(value)
    faults = frozenset(name.strip() for name in names if name and name.strip())
    unknown = sorted(faults - set(FAULTS))
    if unknown:
        raise ValueError(
            f"unknown mock-pay fault(s) {', '.join(unknown)} (known: {', '.join(FAULTS)})"
        )
    return faults
