"""Acting like a person: find fields by their labels and roles, fill a step from answers.

`fill_step()` is catalog-driven: it reads the step's fields from the catalog and uses only what a
person sees (label text, option labels, button names), so any procedure described in YAML can be
completed by the browser tests without procedure-specific code.
"""

from __future__ import annotations

import re

from portal.catalog.schema import Field, Step


def by_label(page, label: str):
    """The input whose accessible name is the label (plus its 必須/任意 tag)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\s*(必須|任意)?$"))


def fill_field(page, field: Field, value) -> None:
    if value is None:
        return
    kind = field.type
    if kind in {"radio"}:
        label = next(o.label for o in field.options if o.value == value)
        page.get_by_role("radio", name=label, exact=True).check()
    elif kind == "checkboxes":
        for option in field.options:
            box = page.get_by_role("checkbox", name=option.label, exact=True)
            box.set_checked(option.value in value)
    elif kind == "select":
        label = next(o.label for o in field.options if o.value == value)
        by_label(page, field.label).select_option(label=label)
    elif kind == "declaration":
        page.get_by_role("checkbox", name=field.label).set_checked(bool(value))
    else:
        by_label(page, field.label).fill(str(value))


def fill_step(page, step: Step, answers: dict) -> None:
    for field in step.fields:
        if field.name in answers:
            fill_field(page, field, answers[field.name])
