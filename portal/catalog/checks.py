"""Checks that cross catalog entries, run after the schema check at start-up and by
`flask catalog check`. Each problem is reported with its YAML path, e.g.
`procedures[0].steps[1].fields[2].when: unknown name 'copie' (known: copies, delivery)`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter as Tally

from portal.catalog import logic
from portal.catalog.schema import AppointmentLink, CatalogData, Procedure
from portal.rules import RuleError, compile_rule

# Example answers are checked as of a fixed date so the check does not depend on today.
EXAMPLE_DATE = dt.date(2026, 4, 1)


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Tally(values).items() if count > 1)


def check_catalog(data: CatalogData) -> list[str]:
    problems: list[str] = []
    for key, ids in (
        ("departments", [d.id for d in data.departments]),
        ("counters", [c.id for c in data.counters]),
        ("life_events", [e.id for e in data.life_events]),
        ("procedures", [p.id for p in data.procedures]),
    ):
        duplicates = _duplicates(ids)
        for i, item_id in enumerate(ids):  # each one at its own path: the loader names its file
            if item_id in duplicates:
                problems.append(f"{key}[{i}].id: duplicate id {item_id!r}")

    problems.extend(_check_earlier(data))
    department_ids = {d.id for d in data.departments}
    event_ids = {e.id for e in data.life_events}
    for i, counter in enumerate(data.counters):
        if counter.department not in department_ids:
            problems.append(f"counters[{i}].department: unknown department {counter.department!r}")
        if counter.booking is not None:
            problems.extend(_check_booking(counter.booking, f"counters[{i}].booking"))

    for name, workflow in data.workflows.items():
        path = f"workflows.{name}"
        for state in (workflow.initial, workflow.submitted):
            if state not in workflow.states:
                problems.append(f"{path}: unknown state {state!r}")
        for j, transition in enumerate(workflow.transitions):
            for state in (transition.source, transition.target):
                if state not in workflow.states:
                    problems.append(f"{path}.transitions[{j}]: unknown state {state!r}")
            where = f"{path}.transitions[{j}]"
            if transition.by == "staff" and not (transition.roles and transition.label):
                problems.append(f"{where}: staff transitions need roles and a label")
            if transition.by != "staff" and (transition.roles or transition.decision):
                problems.append(f"{where}: roles and decision are for staff only")
        if not any(
            t.source == workflow.initial and t.target == workflow.submitted and t.name == "submit"
            for t in workflow.transitions
        ):
            problems.append(f"{path}.transitions: no 'submit' transition from initial to submitted")

    counter_ids = {c.id for c in data.counters}
    for i, procedure in enumerate(data.procedures):
        path = f"procedures[{i}]"
        if procedure.counter is not None and procedure.counter not in counter_ids:
            problems.append(f"{path}.counter: unknown counter {procedure.counter!r}")
        if procedure.appointment is not None:
            problems.extend(
                _check_appointment_link(data, procedure.appointment, f"{path}.appointment")
            )
        for j, suggestion in enumerate(procedure.suggestions):
            if data.procedure(suggestion.procedure) is None:
                problems.append(
                    f"{path}.suggestions[{j}].procedure: unknown procedure {suggestion.procedure!r}"
                )
        own_workflow = data.workflows.get(procedure.workflow)
        for state in procedure.outcomes:
            if own_workflow is not None and state not in own_workflow.states:
                problems.append(f"{path}.outcomes: unknown state {state!r} of {procedure.workflow}")
        if procedure.department not in department_ids:
            problems.append(f"{path}.department: unknown department {procedure.department!r}")
        for j, event_id in enumerate(procedure.life_events):
            if event_id not in event_ids:
                problems.append(f"{path}.life_events[{j}]: unknown life event {event_id!r}")
        if procedure.workflow not in data.workflows:
            problems.append(f"{path}.workflow: unknown workflow {procedure.workflow!r}")
        problems.extend(_check_procedure(procedure, path))
    procedures = {p.id: p for p in data.procedures}
    for i, event in enumerate(data.life_events):
        problems.extend(_check_life_event(event, procedures, f"life_events[{i}]"))
    return problems


def _check_life_event(event, procedures: dict, path: str) -> list[str]:
    """The screening's rules name its own fields; items name catalog procedures; the event
    date is a date field of the screening."""
    problems: list[str] = []
    fields = {f.name: f for f in event.screening.fields} if event.screening else {}
    for duplicate in _duplicates(
        [f.name for f in event.screening.fields] if event.screening else []
    ):
        problems.append(f"{path}.screening: field name {duplicate!r} is used twice")
    if event.event_date is not None and (
        event.event_date not in fields or fields[event.event_date].type != "date"
    ):
        problems.append(f"{path}.event_date: no date field {event.event_date!r} in the screening")
    if event.items and event.screening is None:
        problems.append(f"{path}.items: a checklist needs a screening")
    rules = [(f"{path}.screening.fields[{k}].when", f.when) for k, f in enumerate(fields.values())]
    for j, item in enumerate(event.items):
        if item.procedure is not None and item.procedure not in procedures:
            problems.append(f"{path}.items[{j}].procedure: unknown procedure {item.procedure!r}")
        rules.append((f"{path}.items[{j}].when", item.when))
    for rule_path, source in rules:
        if source is None:
            continue
        try:
            compile_rule(source, names=set(fields))
        except RuleError as error:
            problems.append(f"{rule_path}: {error}")
    if event.bundle is not None:
        problems.extend(_check_bundle(event, fields, procedures, f"{path}.bundle"))
    return problems


def _check_bundle(event, screening: dict, procedures: dict, path: str) -> list[str]:
    """Shared questions are ordinary fields (no files: they belong to one application) with
    names of their own; every fill names a procedure of the event's checklist and its fields,
    with rules on the screening and shared answers (a group's items: on the item's too)."""
    problems: list[str] = []
    shared = {f.name: f for step in event.bundle.shared for f in step.fields}
    names = [f.name for step in event.bundle.shared for f in step.fields]
    for duplicate in _duplicates(names + list(screening)):
        problems.append(f"{path}.shared: field name {duplicate!r} is used twice")
    for i, step in enumerate(event.bundle.shared):
        for k, f in enumerate(step.fields):
            if f.type in ("file", "mynumber"):
                problems.append(f"{path}.shared[{i}].fields[{k}]: a {f.type} is not shared")
        if step.when is not None:
            problems.extend(_rule_problems(step.when, {*screening, *shared}, f"{path}.shared[{i}]"))
    notify = event.bundle.notify
    if notify is not None and (notify not in shared or shared[notify].type != "email"):
        problems.append(f"{path}.notify: no shared e-mail question {notify!r}")
    known = {*screening, *shared}
    listed = {item.procedure for item in event.items if item.procedure}
    for j, fill in enumerate(event.bundle.fills):
        where = f"{path}.fills[{j}]"
        procedure = procedures.get(fill.procedure)
        if procedure is None or fill.procedure not in listed:
            problems.append(f"{where}.procedure: {fill.procedure!r} is not on the checklist")
            continue
        for name, source in fill.answers.items():
            target = procedure.field(name)
            if target is None:
                problems.append(f"{where}.answers.{name}: {fill.procedure} has no such field")
                continue
            if isinstance(source, str):
                problems.extend(_rule_problems(source, known, f"{where}.answers.{name}"))
                continue
            group = shared.get(source.source)
            if group is None or group.type != "group" or target.type != "group":
                problems.append(f"{where}.answers.{name}: fill a group from a shared group")
                continue
            item_names = {*known, *(f.name for f in group.fields)}
            sub_names = {f.name for f in target.fields}
            if source.where:
                problems.extend(_rule_problems(source.where, item_names, f"{where}.{name}.where"))
            for sub, rule in source.map.items():
                if sub not in sub_names:
                    problems.append(f"{where}.answers.{name}.map: no item field {sub!r}")
                problems.extend(_rule_problems(rule, item_names, f"{where}.{name}.map.{sub}"))
    return problems


def _rule_problems(source: str, names: set[str], path: str) -> list[str]:
    allowed = {*names, *(f"{n}.*" for n in names)}
    try:
        compile_rule(source, names=allowed)
    except RuleError as error:
        return [f"{path}: {error}"]
    return []


def _check_appointment_link(data: CatalogData, link: AppointmentLink, path: str) -> list[str]:
    counter = data.counter(link.counter)
    if counter is None or counter.booking is None:
        return [f"{path}.counter: {link.counter!r} is not a counter that takes appointments"]
    if counter.booking.service(link.service) is None:
        known = ", ".join(s.id for s in counter.booking.services)
        return [f"{path}.service: unknown service {link.service!r} (known: {known})"]
    return []


def _check_booking(booking, path: str) -> list[str]:
    problems = []
    weekdays = [day.weekday for day in booking.days]
    for duplicate in _duplicates(weekdays):
        problems.append(f"{path}.days: {duplicate} is given twice")
    for j, day in enumerate(booking.days):
        if day.open >= day.close:
            problems.append(f"{path}.days[{j}]: opens at {day.open}, after closing at {day.close}")
        for k, pause in enumerate(day.breaks):
            if not day.open <= pause.start < pause.end <= day.close:
                problems.append(f"{path}.days[{j}].breaks[{k}]: not within the opening hours")
    for duplicate in _duplicates([service.id for service in booking.services]):
        problems.append(f"{path}.services: id {duplicate!r} is used twice")
    return problems


def _check_procedure(procedure: Procedure, path: str) -> list[str]:
    problems: list[str] = []
    names = [field.name for field in procedure.fields()]
    for duplicate in _duplicates(names):
        problems.append(f"{path}.steps: field name {duplicate!r} is used twice")
    for duplicate in _duplicates([step.id for step in procedure.steps]):
        problems.append(f"{path}.steps: step id {duplicate!r} is used twice")
    if procedure.channel == "counter":
        for key in ("counter", "in_person_reason"):
            if getattr(procedure, key) is None:
                problems.append(f"{path}.{key}: a counter procedure says {key.replace('_', ' ')}")
        if not procedure.who_may_come or not procedure.what_you_need:
            problems.append(f"{path}: a counter procedure lists who_may_come and what_you_need")
    counting = procedure.deadline.counting if procedure.deadline else None
    if counting and counting.event_field and counting.event_field not in names:
        problems.append(f"{path}.deadline.counting.event_field: no field {counting.event_field!r}")
    if procedure.channel != "counter" and not procedure.steps and procedure.ended is None:
        problems.append(f"{path}.steps: an online procedure needs at least one step")

    known = set(names)
    # an address's parts may be named in rules (new_address.city), and a person's (mother.name)
    parts = {
        "address": ("postal_code", "prefecture", "city", "town", "block", "building"),
        "person": ("name", "kana", "birth_date"),
    }
    known |= {
        f"{field.name}.{part}" for field in procedure.fields() for part in parts.get(field.type, ())
    }

    def check_rule(source: str | None, rule_path: str) -> None:
        if source is None:
            return
        try:
            compile_rule(source, names=known)
        except RuleError as error:
            problems.append(f"{rule_path}: {error}")

    for j, suggestion in enumerate(procedure.suggestions):
        check_rule(suggestion.when, f"{path}.suggestions[{j}].when")
    date_fields = {f.name for f in procedure.fields() if f.type == "date"}
    for j, step in enumerate(procedure.steps):
        check_rule(step.when, f"{path}.steps[{j}].when")
        step_fields = {f.name for f in step.fields}
        for k, check in enumerate(step.checks):
            check_rule(check.rule, f"{path}.steps[{j}].checks[{k}].rule")
            if check.field not in step_fields:
                problems.append(
                    f"{path}.steps[{j}].checks[{k}].field: {check.field!r} is not on this step"
                )
        for k, field in enumerate(step.fields):
            field_path = f"{path}.steps[{j}].fields[{k}]"
            check_rule(field.when, f"{field_path}.when")
            if field.field_type.needs_options and not field.options:
                problems.append(f"{field_path}.options: a {field.type} field needs options")
            if not field.field_type.needs_options and field.options and field.type != "person":
                problems.append(f"{field_path}.options: a {field.type} field takes no options")
            for duplicate in _duplicates([option.value for option in field.options]):
                problems.append(f"{field_path}.options: value {duplicate!r} is used twice")
            problems.extend(_check_group(field, field_path))
            problems.extend(_check_default(field, field_path))
            problems.extend(_check_prefill(field, field_path))
            problems.extend(_check_public_funds(field, field_path))
            problems.extend(_check_shortcuts(field, field_path, date_fields - step_fields))
            problems.extend(_check_sensitive(field, field_path))
    if procedure.fee:
        check_rule(procedure.fee.rule, f"{path}.fee.rule")
    for key, value in (
        ("easy_summary", procedure.easy_summary),
        ("en", procedure.en),
        ("sources", procedure.sources),
    ):
        if value is None:
            problems.append(f"{path}.{key}: missing (every procedure has it, in every language)")
    problems.extend(_check_keywords(procedure, path))
    uses_identity = procedure.on_behalf or any(
        f.prefill or f.public_funds for f in procedure.fields()
    )
    if procedure.optional_login:
        if procedure.identity_level != "none":
            problems.append(f"{path}.optional_login: only with identity_level 'none'")
        if procedure.on_behalf:
            problems.append(f"{path}.optional_login: on_behalf needs 'login' or 'signature'")
    elif uses_identity and procedure.identity_level == "none":
        problems.append(
            f"{path}.identity_level: prefill and on_behalf need 'login' or 'signature' "
            "(they read the signed-in resident's records), or optional_login for prefill"
        )
    for j, attachment in enumerate(procedure.attachments):
        check_rule(attachment.when, f"{path}.attachments[{j}].when")
    if problems:
        return problems
    return _check_examples(procedure, path)


def _check_default(field, path: str) -> list[str]:
    """A default is only an offered number (one copy), within its bounds, on a required field."""
    if field.default is None:
        return []
    if field.type != "number" or not field.required:
        return [f"{path}.default: only a required number field has a default"]
    low = field.min if field.min is not None else field.default
    high = field.max if field.max is not None else field.default
    if not low <= field.default <= high:
        return [f"{path}.default: {field.default} is outside min..max"]
    return []


_READING = re.compile(r"^[ぁ-ゖー・]+$")


def _check_keywords(procedure: Procedure, path: str) -> list[str]:
    """Search keywords (issue 22): the everyday words residents search with and their readings,
    so that 引越し, ひっこし, 赤ちゃん or 亡くなった find the procedure."""
    if not procedure.keywords:
        return [
            f"{path}.keywords: missing (everyday words and their readings in hiragana, e.g. "
            "[引越し, ひっこし]; the portal's search uses them)"
        ]
    problems = []
    if not any(_READING.match(k) for k in procedure.keywords):
        problems.append(f"{path}.keywords: no reading in hiragana (e.g. ひっこし for 引越し)")
    if all(_READING.match(k) for k in procedure.keywords):
        problems.append(f"{path}.keywords: only readings; give the words as they are written too")
    for duplicate in _duplicates(list(procedure.keywords)):
        problems.append(f"{path}.keywords: {duplicate!r} is listed twice")
    return problems


def _check_group(field, path: str) -> list[str]:
    if field.type != "group":
        return [f"{path}.fields: only a group field has sub-fields"] if field.fields else []
    problems = []
    if not field.fields:
        problems.append(f"{path}.fields: a group needs sub-fields")
    if field.min_items > field.max_items:
        problems.append(f"{path}.min_items: more than max_items")
    for k, sub in enumerate(field.fields):
        if sub.type == "group":
            problems.append(f"{path}.fields[{k}].type: groups cannot be nested")
        if sub.when:
            problems.append(f"{path}.fields[{k}].when: conditions inside a group are not supported")
        if sub.field_type.needs_options and not sub.options:
            problems.append(f"{path}.fields[{k}].options: a {sub.type} field needs options")
    return problems


# Field types whose answer is always a secret of the resident's: they must be marked
# `sensitive: true` (docs/decisions/0054-assisted-sessions.md).
SECRET_TYPES = frozenset({"mynumber", "bank_account"})


def _check_sensitive(field, path: str) -> list[str]:
    """`sensitive: true` marks a step's field the resident enters themself in an assisted
    session (a hand-over screen) and a helper only ever sees masked. It belongs to a step's own
    field: the hand-over is per step, and masking shows a whole answer, never half a group."""
    problems = []
    if field.type in SECRET_TYPES and not field.sensitive:
        problems.append(f"{path}.sensitive: a {field.type} field is always sensitive: true")
    for k, sub in enumerate(field.fields):
        if sub.sensitive or sub.type in SECRET_TYPES:
            problems.append(
                f"{path}.fields[{k}].sensitive: a sensitive answer is a step's own field, "
                "not a group's sub-field"
            )
    return problems


# The 要介護状態区分 of the care insurance records (subject.care_level).
CARE_LEVELS = {"support-1", "support-2", "care-1", "care-2", "care-3", "care-4", "care-5"}

# The school years prefill.school_grade fills (a children group's select).
SCHOOL_GRADES = {f"elementary-{n}" for n in range(1, 7)} | {f"junior-{n}" for n in range(1, 4)}

# Which field type each prefill source fills.
PREFILL_TYPES = {
    "applicant.phone": "tel",
    "applicant.email": "email",
    "applicant.person": "person",
    "applicant.address": "address",
    "applicant.name": "text",
    "applicant.kana": "text",
    "applicant.household_role": "radio",
    "applicant.household_head": "text",
    "applicant.parent_role": "radio",
    "subject.person": "person",
    "subject.address": "address",
    "subject.children": "group",
    "subject.care_insured_number": "text",
    "subject.care_level": "select",
    "subject.care_insured_category": "radio",
    "subject.care_plan_type": "radio",
    "subject.tax_lookup": "radio",
    "subject.household": "group",
    "subject.spouse": "person",
    "applicant.my_number": "mynumber",
    "subject.my_number": "mynumber",
    "subject.spouse_in_household": "yesno",
    "subject.spouse_name": "text",
    "subject.spouse_my_number": "mynumber",
    "subject.household_services": "checkboxes",
    "deceased.person": "person",
    "deceased.death_date": "date",
    "deceased.address": "address",
    "deceased.insured_number": "text",
    "deceased.relationship": "select",
    "subject.phone": "tel",
    "subject.care_doctor": "text",
    "subject.care_clinic": "text",
    "subject.moved_in_date": "date",
    "subject.previous_municipality": "text",
    "applicant.incoming_address": "address",
    "applicant.incoming_move_date": "date",
    "applicant.incoming_tenshutsu": "radio",
    "applicant.incoming_movers": "group",
    "applicant.child_allowance_number": "text",
}


def _check_living(field, name: str, path: str, attribute: str) -> list[str]:
    """living ("together") and nursery (a facility) fill a children group's radio or select."""
    prefill = field.prefill
    sub = next((s for s in field.fields if s.name == name), None)
    if prefill.source != "subject.children":
        return [f"{path}.prefill.map: {attribute} is for subject.children only"]
    if sub is not None and sub.type not in ("radio", "select"):
        return [f"{path}.prefill.map: {name!r} must be a radio or select"]
    if (
        sub is not None
        and attribute == "living"
        and "together" not in {o.value for o in sub.options}
    ):
        return [f"{path}.prefill.map: {name!r} must offer 'together'"]
    return []


# applicant.earlier never carries a secret or a file over from an earlier application.
EARLIER_REFUSED = {"mynumber", "bank_account", "file", "declaration"}


def _check_earlier(data: CatalogData) -> list[str]:
    """applicant.earlier: a field that may hold what the resident answered before, named the
    same and of the same type in every procedure it names (the default: its own)."""
    problems = []
    by_id = {p.id: p for p in data.procedures}
    for i, procedure in enumerate(data.procedures):
        for field in procedure.fields():
            prefill = field.prefill
            if prefill is None:
                continue
            path = f"procedures[{i}].{field.name}.prefill"
            if prefill.source != "applicant.earlier":
                if prefill.procedures:
                    problems.append(f"{path}.procedures: for applicant.earlier only")
                continue
            if field.type in EARLIER_REFUSED or field.sensitive:
                problems.append(f"{path}: applicant.earlier never fills a {field.type} field")
            for other_id in prefill.procedures:
                other = by_id.get(other_id)
                same = other.field(field.name) if other is not None else None
                if same is None or same.type != field.type:
                    problems.append(
                        f"{path}.procedures: {other_id!r} has no {field.type} field {field.name!r}"
                    )
    return problems


def _check_prefill(field, path: str) -> list[str]:
    prefill = field.prefill
    if prefill is None:
        return []
    if prefill.source == "applicant.earlier":
        return []  # _check_earlier (it needs the other procedures)
    problems = []
    expected = PREFILL_TYPES[prefill.source]
    if field.type != expected:
        problems.append(
            f"{path}.prefill.source: {prefill.source} fills a {expected} field, not {field.type}"
        )
    if prefill.source in ("subject.children", "subject.household", "applicant.incoming_movers"):
        sub_names = {sub.name for sub in field.fields}
        if not prefill.map:
            problems.append(f"{path}.prefill.map: name the sub-fields the children fill")
        for name in prefill.map:
            if name not in sub_names:
                problems.append(f"{path}.prefill.map: {name!r} is not a sub-field of this group")
        for name, attribute in prefill.map.items():
            if attribute == "has_card" and prefill.source != "applicant.incoming_movers":
                problems.append(f"{path}.prefill.map: has_card is for applicant.incoming_movers")
            if attribute in ("living", "nursery"):
                problems += _check_living(field, name, path, attribute)
            if attribute != "school_grade":
                continue
            sub = next((s for s in field.fields if s.name == name), None)
            if prefill.source != "subject.children":
                problems.append(f"{path}.prefill.map: school_grade is for subject.children only")
            elif sub is not None and not {o.value for o in sub.options} >= SCHOOL_GRADES:
                problems.append(
                    f"{path}.prefill.map: {name!r} needs the options {sorted(SCHOOL_GRADES)}"
                )
    elif prefill.source == "applicant.incoming_tenshutsu" and "online" not in {
        o.value for o in field.options
    }:
        problems.append(f"{path}.options: applicant.incoming_tenshutsu needs an option 'online'")
    elif prefill.source == "subject.tax_lookup" and {o.value for o in field.options} != {
        "city",
        "attach",
    }:
        problems.append(f"{path}.options: subject.tax_lookup needs options 'city' and 'attach'")
    elif prefill.source == "applicant.household_role" and {o.value for o in field.options} != {
        "head",
        "member",
    }:
        problems.append(
            f"{path}.options: applicant.household_role needs options 'head' and 'member'"
        )
    elif prefill.source == "applicant.parent_role" and not {"mother", "father"} <= {
        o.value for o in field.options
    }:
        problems.append(
            f"{path}.options: applicant.parent_role needs options 'mother' and 'father'"
        )
    elif (
        prefill.source == "subject.care_level"
        and not {o.value for o in field.options} >= CARE_LEVELS
    ):
        problems.append(
            f"{path}.options: subject.care_level needs the levels {sorted(CARE_LEVELS)}"
        )
    elif prefill.source == "subject.care_plan_type" and not {o.value for o in field.options} >= {
        "care",
        "support",
    }:
        problems.append(
            f"{path}.options: subject.care_plan_type needs options 'care' and 'support'"
        )
    elif prefill.source == "subject.care_insured_category" and "first" not in {
        o.value for o in field.options
    }:
        problems.append(f"{path}.options: subject.care_insured_category needs the option 'first'")
    group_source = prefill.source in (
        "subject.children",
        "subject.household",
        "applicant.incoming_movers",
    )
    if not group_source and (prefill.map or prefill.max_age is not None):
        problems.append(f"{path}.prefill: map and max_age are for group sources only")
    if prefill.had is not None and not prefill.source.startswith("deceased."):
        problems.append(f"{path}.prefill.had: only for the deceased.* sources")
    return problems


DATE_SHORTCUTS = ("today", "yesterday", "next_month", "next_april")


def _check_shortcuts(field, path: str, date_fields: set[str]) -> list[str]:
    """`shortcuts:` only on date fields: today, yesterday, the 1st of next month, the next 1 April
    (a start date: decision 0077) or a date field of another step (the page offers a date
    already saved, decision 0076). `year_optional:` only on date fields too (decision 0088)."""
    if field.year_optional and field.type != "date":
        return [f"{path}.year_optional: only for a date field, not {field.type}"]
    if not field.shortcuts:
        return []
    if field.type != "date":
        return [f"{path}.shortcuts: only for a date field, not {field.type}"]
    return [
        f"{path}.shortcuts: {name!r} is not today, yesterday, next_month, next_april"
        " or a date field of another step"
        for name in field.shortcuts
        if name not in DATE_SHORTCUTS and (name not in date_fields or name == field.name)
    ]


def _check_public_funds(field, path: str) -> list[str]:
    """`public_funds:` names an option of a radio field (decision 0076)."""
    if field.public_funds is None:
        return []
    if field.type != "radio":
        return [f"{path}.public_funds: only for a radio field, not {field.type}"]
    if field.public_funds.option not in {o.value for o in field.options}:
        return [f"{path}.public_funds.option: {field.public_funds.option!r} is not an option"]
    return []


def _check_examples(procedure: Procedure, path: str) -> list[str]:
    """Example answers must be a complete, valid application: the tests submit them."""
    if procedure.channel == "counter" or procedure.ended is not None:
        return []
    examples = logic.resolve_examples(procedure.example_answers, EXAMPLE_DATE)
    problems = [
        f"{path}.example_answers.{name}: not a field of this procedure"
        for name in examples
        if procedure.field(name) is None
    ]
    for step in logic.applicable_steps(procedure, examples, EXAMPLE_DATE):
        for field in logic.applicable_fields(step, examples, EXAMPLE_DATE):
            if field.type == "file":
                continue  # examples name no files; the browser tests upload generated ones
            value = examples.get(field.name)
            if value is None:
                if field.required:
                    problems.append(f"{path}.example_answers.{field.name}: missing (required)")
                continue
            error = field.field_type.check_value(field, value)
            if error:
                problems.append(f"{path}.example_answers.{field.name}: {error}")
    if not problems:
        for step in logic.applicable_steps(procedure, examples, EXAMPLE_DATE):
            for name, message in logic.check_errors(step, examples, EXAMPLE_DATE).items():
                problems.append(f"{path}.example_answers.{name}: fails a check: {message}")
    if not problems and procedure.fee:
        try:
            logic.fee_amount(procedure, examples, EXAMPLE_DATE)
        except (RuleError, ValueError) as error:
            problems.append(f"{path}.fee.rule: {error}")
    return problems
