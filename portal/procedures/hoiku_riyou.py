"""保育施設等の利用申込: ranked nursery preferences must name different nurseries."""

from __future__ import annotations

from typing import Any

from portal.i18n import translate
from portal.procedures import hooks_for

PREFERENCES = ("nursery_1", "nursery_2", "nursery_3")


@hooks_for("hoiku-riyou")
def validate_step(step_id: str, answers: dict[str, Any]) -> dict[str, str]:
    if step_id != "preferences":
        return {}
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for rank, name in enumerate(PREFERENCES, start=1):
        value = answers.get(name)
        if value is None:
            continue
        if value in seen:
            errors[name] = translate(
                "第%(rank)s希望に、上位の希望と同じ施設が選ばれています。別の施設を選んでください",
                rank=rank,
            )
        seen.add(value)
    return errors
