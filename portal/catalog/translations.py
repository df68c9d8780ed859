"""Translations of the catalog's texts, and the report of what is still missing (issue 23).

Where translations live (docs/decisions/0060-catalog-translations.md): beside the catalog, one
folder per language, one file per catalog unit, keyed by the text's path inside the unit:

    catalog/translations/en/procedures/juminhyo-copy.yaml
    catalog/translations/easy/life-events/moving.yaml
    catalog/translations/en/catalog.yaml          # departments, counters, workflow states, city

    # catalog/translations/en/procedures/juminhyo-copy.yaml
    title: {text: Copy of the residence certificate, reviewed: true}
    steps.request.fields.copies.label: {text: Number of copies, reviewed: false}

`reviewed` is the provenance: true when a person (a translator of the city) checked the text,
false for anything else (machine translation, a draft). A new procedure stays a catalog entry
(no Python); a new language is a folder here plus an entry of `portal.i18n.LANGUAGES`.

The English and やさしい日本語 texts already written inline in the catalog (`en.title`,
`easy_summary`, `label_en`, `name_easy`, `ended.instead_en` ...) count as translations whose
provenance was not recorded (not reviewed).

The page chrome's gettext strings (`_()` in the resident-facing templates, `portal.ui_texts`)
join the same report as unit `ui`, keyed by their message id; their translations stay in the .po
files under portal/translations (provenance: the flag `#, reviewed`).

`missing_report()` lists every translatable text (`TextKey`: unit + path) with no translation per
language; `check_translations()` compares that with the committed baseline
(`catalog/translations-missing.yaml`): for the gated languages (en, easy) a missing text that is
not in the baseline is a problem, and so is a baseline entry that is no longer missing (the list
only shrinks). A translation whose path names no text of the catalog is a problem too (stale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markupsafe import Markup, escape
from pydantic import BaseModel

from portal.catalog.schema import CatalogData, Counter, Field, LifeEvent, Procedure, Step

# Languages whose missing texts may only shrink (CI fails on a new one).
GATED = ("en", "easy")
BASELINE_NAME = "translations-missing.yaml"
FOLDER_NAME = "translations"

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, order=True)
class TextKey:
    """One translatable text: its unit (`procedures/<id>`, `life-events/<id>`, `catalog`) and its
    path inside the unit (`steps.request.fields.copies.label`)."""

    unit: str
    path: str

    def __str__(self) -> str:
        return f"{self.unit}:{self.path}"

    @classmethod
    def parse(cls, value: str) -> TextKey:
        unit, sep, path = value.partition(":")
        if not sep or not unit or not path:
            raise ValueError(f"not a text key (unit:path): {value!r}")
        return cls(unit, path)


@dataclass(frozen=True)
class Translation:
    text: str
    reviewed: bool


@dataclass
class TranslationSet:
    """Every translation found, by language, and the problems of the translation files."""

    texts: dict[str, dict[TextKey, Translation]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --- the catalog's translatable texts -------------------------------------------------------


def _field_texts(prefix: str, item: Field) -> Iterator[tuple[str, str]]:
    base = f"{prefix}.fields.{item.name}"
    yield f"{base}.label", item.label
    if item.hint:
        yield f"{base}.hint", item.hint
    if item.suffix:
        yield f"{base}.suffix", item.suffix
    for option in item.options:
        yield f"{base}.options.{option.value}.label", option.label
        if option.hint:
            yield f"{base}.options.{option.value}.hint", option.hint
    if item.type == "group":
        yield f"{base}.item_label", item.item_label
        for sub in item.fields:
            yield from _field_texts(base, sub)


def _step_texts(prefix: str, step: Step) -> Iterator[tuple[str, str]]:
    base = f"{prefix}.{step.id}"
    yield f"{base}.title", step.title
    if step.description:
        yield f"{base}.description", step.description
    for item in step.fields:
        yield from _field_texts(base, item)
    for index, check in enumerate(step.checks):
        yield f"{base}.checks.{index}.message", check.message


def procedure_texts(procedure: Procedure) -> Iterator[tuple[str, str]]:
    """(path, Japanese text) of every resident-facing text of a procedure."""
    yield "title", procedure.title
    yield "summary", procedure.summary
    yield "processing_time", procedure.processing_time
    yield "next_steps", procedure.next_steps
    yield "purpose_of_use", procedure.purpose_of_use
    yield "legal_basis", procedure.legal_basis
    for name in ("declaration", "in_person_reason"):
        value = getattr(procedure, name)
        if value:
            yield name, value
    if procedure.ended:
        yield "ended.instead", procedure.ended.instead
    if procedure.fee:
        yield "fee.description", procedure.fee.description
    if procedure.deadline:
        yield "deadline.description", procedure.deadline.description
        if procedure.deadline.counting:
            yield "deadline.counting.event", procedure.deadline.counting.event
            yield "deadline.counting.law", procedure.deadline.counting.law
    for index, text in enumerate(procedure.what_you_need):
        yield f"what_you_need.{index}", text
    for index, text in enumerate(procedure.who_may_come):
        yield f"who_may_come.{index}", text
    for attachment in procedure.attachments:
        yield f"attachments.{attachment.id}.label", attachment.label
    for index, suggestion in enumerate(procedure.suggestions):
        if suggestion.note:
            yield f"suggestions.{index}.note", suggestion.note
    for step in procedure.steps:
        yield from _step_texts("steps", step)


def life_event_texts(event: LifeEvent) -> Iterator[tuple[str, str]]:
    yield "label", event.label
    if event.summary:
        yield "summary", event.summary
    if event.screening:
        yield from _step_texts("screening", event.screening)
    for index, item in enumerate(event.items):
        for name in ("title", "where", "note"):
            value = getattr(item, name)
            if value:
                yield f"items.{index}.{name}", value
    if event.bundle:
        for step in event.bundle.shared:
            yield from _step_texts("bundle.shared", step)


def shared_texts(data: CatalogData) -> Iterator[tuple[str, str]]:
    """Texts of `procedure_catalog.yaml` itself that residents read."""
    yield "city.name", data.city.name
    for department in data.departments:
        yield f"departments.{department.id}.name", department.name
    for counter in data.counters:
        yield f"counters.{counter.id}.name", counter.name
        yield f"counters.{counter.id}.location", counter.location
        yield f"counters.{counter.id}.hours", counter.hours
        if counter.booking:
            for service in counter.booking.services:
                yield f"counters.{counter.id}.services.{service.id}.name", service.name
            for index, text in enumerate(counter.booking.accessibility):
                yield f"counters.{counter.id}.accessibility.{index}", text
    for workflow_name, workflow in data.workflows.items():
        for state_name, state in workflow.states.items():
            base = f"workflows.{workflow_name}.states.{state_name}"
            yield f"{base}.label", state.label
            yield f"{base}.description", state.description


def catalog_texts(data: CatalogData) -> dict[TextKey, str]:
    """Every translatable text of the catalog, with its Japanese."""
    texts: dict[TextKey, str] = {}
    for path, text in shared_texts(data):
        texts[TextKey("catalog", path)] = text
    for event in data.life_events:
        for path, text in life_event_texts(event):
            texts[TextKey(f"life-events/{event.id}", path)] = text
    for procedure in data.procedures:
        for path, text in procedure_texts(procedure):
            texts[TextKey(f"procedures/{procedure.id}", path)] = text
    return texts


def inline_translations(data: CatalogData) -> dict[str, dict[TextKey, Translation]]:
    """The English and やさしい日本語 written inline in the catalog (provenance not recorded)."""
    found: dict[str, dict[TextKey, Translation]] = {"en": {}, "easy": {}}

    def add(lang: str, key: TextKey, text: str | None) -> None:
        if text:
            found[lang][key] = Translation(text, reviewed=False)

    add("en", TextKey("catalog", "city.name"), data.city.name_en)
    for department in data.departments:
        key = TextKey("catalog", f"departments.{department.id}.name")
        add("en", key, department.name_en)
        add("easy", key, department.name_easy)
    for event in data.life_events:
        key = TextKey(f"life-events/{event.id}", "label")
        add("en", key, event.label_en)
        add("easy", key, event.label_easy)
    for procedure in data.procedures:
        unit = f"procedures/{procedure.id}"
        if procedure.en:
            add("en", TextKey(unit, "title"), procedure.en.title)
            add("en", TextKey(unit, "summary"), procedure.en.summary)
        add("easy", TextKey(unit, "summary"), procedure.easy_summary)
        if procedure.ended:
            add("en", TextKey(unit, "ended.instead"), procedure.ended.instead_en)
            add("easy", TextKey(unit, "ended.instead"), procedure.ended.instead_easy)
    return found


# --- translation files ----------------------------------------------------------------------


def _read_entries(file: Path, unit: str, into: dict[TextKey, Translation], problems: list[str]):
    try:
        loaded = yaml.load(file.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
    except yaml.YAMLError as error:
        problems.append(f"{file}: not valid YAML: {error}")
        return
    if loaded is None:
        return
    if not isinstance(loaded, dict):
        problems.append(f"{file}: must be a mapping of text path to {{text, reviewed}}")
        return
    for path, entry in loaded.items():
        ok = (
            isinstance(path, str)
            and isinstance(entry, dict)
            and set(entry) == {"text", "reviewed"}
            and isinstance(entry["text"], str)
            and entry["text"].strip() != ""
            and isinstance(entry["reviewed"], bool)
        )
        if not ok:
            problems.append(f"{file}: {path}: give {{text: <non-empty>, reviewed: true|false}}")
            continue
        into[TextKey(unit, path)] = Translation(entry["text"].strip(), entry["reviewed"])


def read_translations(folder: Path, languages: Iterable[str]) -> TranslationSet:
    """The translation files under `folder` (catalog/translations), by language."""
    result = TranslationSet()
    wanted = set(languages)
    if not folder.is_dir():
        return result
    for lang_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        lang = lang_dir.name
        if lang == "ja":
            result.problems.append(f"{lang_dir}: the Japanese texts are the catalog itself")
            continue
        if lang not in wanted:
            result.problems.append(
                f"{lang_dir}: language {lang!r} is not offered (add it to portal.i18n.LANGUAGES)"
            )
            continue
        texts = result.texts.setdefault(lang, {})
        for file in sorted(lang_dir.rglob("*")):
            if file.is_dir():
                continue
            relative = file.relative_to(lang_dir)
            if file.suffix != ".yaml":
                result.problems.append(f"{file}: only .yaml files belong here")
                continue
            unit = relative.with_suffix("").as_posix()
            if unit != "catalog" and not unit.startswith(("procedures/", "life-events/")):
                result.problems.append(
                    f"{file}: expected catalog.yaml, procedures/<id>.yaml or life-events/<id>.yaml"
                )
                continue
            _read_entries(file, unit, texts, result.problems)
    return result


# --- the report and the baseline ------------------------------------------------------------


@dataclass
class Report:
    """Missing and unreviewed texts per language, and the problems found on the way."""

    total: int
    missing: dict[str, list[TextKey]]
    unreviewed: dict[str, list[TextKey]]
    problems: list[str]


def missing_report(
    data: CatalogData,
    folder: Path,
    languages: Iterable[str],
    ui: tuple[dict[TextKey, str], dict[str, dict[TextKey, Translation]]] | None = None,
) -> Report:
    """Every catalog text × every language (but Japanese) → the missing ones. `ui`: the page
    chrome's strings and their gettext translations (`portal.ui_texts`), counted alike."""
    langs = [lang for lang in languages if lang != "ja"]
    texts = catalog_texts(data)
    ui_texts, ui_translations = ui or ({}, {})
    texts.update(ui_texts)
    files = read_translations(folder, langs)
    problems = list(files.problems)
    inline = inline_translations(data)
    missing: dict[str, list[TextKey]] = {}
    unreviewed: dict[str, list[TextKey]] = {}
    for lang in langs:
        given = {**inline.get(lang, {})}
        given.update(
            (key, t) for key, t in ui_translations.get(lang, {}).items() if key in ui_texts
        )
        for key, translation in files.texts.get(lang, {}).items():
            if key not in texts:
                problems.append(f"{FOLDER_NAME}/{lang}/{key.unit}.yaml: {key.path}: no such text")
                continue
            if key in given:
                problems.append(
                    f"{FOLDER_NAME}/{lang}/{key.unit}.yaml: {key.path}: "
                    "already translated inline in the catalog"
                )
            given[key] = translation
        missing[lang] = sorted(key for key in texts if key not in given)
        unreviewed[lang] = sorted(key for key, t in given.items() if not t.reviewed)
    return Report(len(texts), missing, unreviewed, problems)


def read_baseline(path: Path) -> dict[str, set[TextKey]]:
    """The committed list of missing texts ({lang: [unit:path, ...]}); absent: empty."""
    if not path.exists():
        return {}
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}  # noqa: S506
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: must map a language to a list of text keys")
    baseline: dict[str, set[TextKey]] = {}
    for lang, keys in loaded.items():
        if not isinstance(keys, list):
            raise ValueError(f"{path}: {lang}: must be a list of text keys")
        baseline[str(lang)] = {TextKey.parse(str(key)) for key in keys}
    return baseline


def baseline_yaml(report: Report) -> str:
    """The baseline file's text for the gated languages of a report (sorted, stable)."""
    lines = [
        "# Catalog texts still without a translation (issue 23; docs/decisions/0060).",
        "# This list may only shrink: `flask catalog check` fails on a missing text not listed",
        "# here and on a listed text that is no longer missing. Regenerate after translating:",
        "#   flask catalog missing-translations --write",
    ]
    listing = {lang: [str(key) for key in report.missing.get(lang, [])] for lang in GATED}
    dumped = yaml.safe_dump(listing, allow_unicode=True, sort_keys=False, width=10**6)
    lines.extend(dumped.splitlines())
    return "\n".join(lines) + "\n"


def check_translations(report: Report, baseline: dict[str, set[TextKey]]) -> list[str]:
    """Problems: translation-file problems, new missing texts and stale baseline entries."""
    problems = list(report.problems)
    for lang in GATED:
        missing = set(report.missing.get(lang, []))
        allowed = baseline.get(lang, set())
        for key in sorted(missing - allowed):
            problems.append(f"{lang}: {key}: missing translation (not in {BASELINE_NAME})")
        for key in sorted(allowed - missing):
            problems.append(
                f"{lang}: {key}: listed in {BASELINE_NAME} but no longer missing "
                "(remove it: the list only shrinks)"
            )
    return problems


def catalog_folder(entry: Path) -> Path:
    """The folder of the catalog's files (`catalog/` beside the entry file)."""
    return entry.resolve().parent / "catalog"


def check_catalog_translations(
    data: CatalogData,
    catalog_dir: Path,
    languages: Iterable[str],
    ui: tuple[dict[TextKey, str], dict[str, dict[TextKey, Translation]]] | None = None,
) -> tuple[Report, list[str]]:
    """The report for the catalog at `catalog_dir` (the folder holding `translations/` and the
    baseline), and every problem `flask catalog check` fails on."""
    report = missing_report(data, catalog_dir / FOLDER_NAME, languages, ui)
    try:
        baseline = read_baseline(catalog_dir / BASELINE_NAME)
    except ValueError as error:
        return report, [*report.problems, str(error)]
    return report, check_translations(report, baseline)


# --- translations on pages (decision 0066) --------------------------------------------------


def _not_noted() -> None:
    return None


# Called when an unreviewed or untranslated text is written into a page (decision 0070: the page
# then says it was not checked by a translator); portal.localization sets it.
shown_unreviewed: Callable[[], None] = _not_noted


class Untranslated(str):
    """A catalog text shown in Japanese on a page of another language (no translation yet). In
    element content it marks itself `lang="ja"` (markupsafe calls `__html__`); in an attribute
    or a <title>, write `|plain` (`str(text)`). `lang`: the language it is written in."""

    __slots__ = ()
    lang = "ja"

    def __html__(self) -> str:
        shown_unreviewed()
        # Markup, so that markupsafe's formatting (Markup.format) does not escape it again
        return Markup(f'<span lang="{self.lang}">{escape(str(self))}</span>')  # noqa: S704 - escaped


class InEnglish(Untranslated):
    """A text missing in a foreign language, shown in its English translation instead (decision
    0071: a foreign resident is likelier to read English than Japanese); marks itself lang="en"
    and, like any text shown in place of a translation, is noted for the page's notice."""

    __slots__ = ()
    lang = "en"


class Unreviewed(str):
    """A translation no translator checked yet (`reviewed: false`, or written inline in the
    catalog): shown as it is, and noted for the page's notice (decision 0070)."""

    __slots__ = ()

    def __html__(self) -> str:
        shown_unreviewed()
        return escape(str(self))


@dataclass(frozen=True)
class PageTexts:
    """Every translation a page may show, read once per catalog load: {lang: {unit: {path:
    text}}} from the translation files and the catalog's inline English/やさしい日本語.
    `fallback`: the language a missing text is looked for in next ({"vi": "en", ...})."""

    texts: dict[str, dict[str, dict[str, str]]]
    fallback: dict[str, str] = field(default_factory=dict)

    def text(self, unit: str, path: str, lang: str, japanese: str) -> str:
        """THE lookup: a catalog text (unit + path) in `lang`; else its English for a foreign
        language (marked InEnglish); else `japanese` (marked Untranslated)."""
        if lang == "ja":
            return japanese
        found = self.texts.get(lang, {}).get(unit, {}).get(path)
        if found is not None:
            return found
        second = self.fallback.get(lang)
        if second is not None:
            found = self.texts.get(second, {}).get(unit, {}).get(path)
            if found is not None:
                return InEnglish(found) if second == "en" else found
        return Untranslated(japanese)


def page_texts(
    data: CatalogData,
    folder: Path,
    languages: Iterable[str],
    fallback: dict[str, str] | None = None,
) -> PageTexts:
    """The translations pages read (files under `folder` and the inline texts), by language.
    Problems of the files are `flask catalog check`'s business: here a bad entry is skipped."""
    langs = [lang for lang in languages if lang != "ja"]
    files = read_translations(folder, langs)
    inline = inline_translations(data)
    texts: dict[str, dict[str, dict[str, str]]] = {}
    for lang in langs:
        units = texts.setdefault(lang, {})
        for source in (inline.get(lang, {}), files.texts.get(lang, {})):
            for key, translation in source.items():
                units.setdefault(key.unit, {})[key.path] = (
                    translation.text if translation.reviewed else Unreviewed(translation.text)
                )
    return PageTexts(texts, dict(fallback or {}))


def _localize_field(item: Field, base: str, text: Callable[[str, str], str]) -> Field:
    update: dict[str, object] = {"label": text(f"{base}.label", item.label)}
    if item.hint:
        update["hint"] = text(f"{base}.hint", item.hint)
    if item.suffix:
        update["suffix"] = text(f"{base}.suffix", item.suffix)
    if item.options:
        options = []
        for option in item.options:
            prefix = f"{base}.options.{option.value}"
            changes = {"label": text(f"{prefix}.label", option.label)}
            if option.hint:
                changes["hint"] = text(f"{prefix}.hint", option.hint)
            options.append(option.model_copy(update=changes))
        update["options"] = options
    if item.type == "group":
        update["item_label"] = text(f"{base}.item_label", item.item_label)
        update["fields"] = [
            _localize_field(sub, f"{base}.fields.{sub.name}", text) for sub in item.fields
        ]
    return item.model_copy(update=update)


def localize_step(step: Step, prefix: str, text: Callable[[str, str], str]) -> Step:
    """A step with its texts in another language (`text(path, japanese)`); same ids and rules."""
    base = f"{prefix}.{step.id}"
    update: dict[str, object] = {
        "title": text(f"{base}.title", step.title),
        "fields": [_localize_field(f, f"{base}.fields.{f.name}", text) for f in step.fields],
        "checks": [
            check.model_copy(update={"message": text(f"{base}.checks.{n}.message", check.message)})
            for n, check in enumerate(step.checks)
        ],
    }
    if step.description:
        update["description"] = text(f"{base}.description", step.description)
    return step.model_copy(update=update)


def localize_procedure(procedure: Procedure, text: Callable[[str, str], str]) -> Procedure:
    """The procedure as a page of another language shows it: every text of `procedure_texts`
    looked up, the rest (ids, rules, values) the same objects."""
    update: dict[str, object] = {
        name: text(name, getattr(procedure, name))
        for name in (
            "title",
            "summary",
            "processing_time",
            "next_steps",
            "purpose_of_use",
            "legal_basis",
        )
    }
    for name in ("declaration", "in_person_reason"):
        value = getattr(procedure, name)
        if value:
            update[name] = text(name, value)
    if procedure.ended:
        update["ended"] = procedure.ended.model_copy(
            update={"instead": text("ended.instead", procedure.ended.instead)}
        )
    for name in ("fee", "deadline"):
        part = getattr(procedure, name)
        if part:
            update[name] = part.model_copy(
                update={"description": text(f"{name}.description", part.description)}
            )
    if procedure.deadline and procedure.deadline.counting:
        counting = procedure.deadline.counting
        deadline = update["deadline"]
        assert isinstance(deadline, BaseModel)  # set above from procedure.deadline
        update["deadline"] = deadline.model_copy(
            update={
                "counting": counting.model_copy(
                    update={
                        "event": text("deadline.counting.event", counting.event),
                        "law": text("deadline.counting.law", counting.law),
                    }
                )
            }
        )
    for name in ("what_you_need", "who_may_come"):
        update[name] = [text(f"{name}.{n}", t) for n, t in enumerate(getattr(procedure, name))]
    update["attachments"] = [
        a.model_copy(update={"label": text(f"attachments.{a.id}.label", a.label)})
        for a in procedure.attachments
    ]
    update["suggestions"] = [
        s.model_copy(update={"note": text(f"suggestions.{n}.note", s.note)}) if s.note else s
        for n, s in enumerate(procedure.suggestions)
    ]
    update["steps"] = [localize_step(step, "steps", text) for step in procedure.steps]
    return procedure.model_copy(update=update)


def localize_life_event(event: LifeEvent, text: Callable[[str, str], str]) -> LifeEvent:
    """A life event as a page of another language shows it (decision 0072): every text of
    `life_event_texts` looked up (label, summary, the screening, the checklist items, the
    bundle's shared steps); ids, rules and procedures the same objects."""
    update: dict[str, object] = {"label": text("label", event.label)}
    if event.summary:
        update["summary"] = text("summary", event.summary)
    if event.screening:
        update["screening"] = localize_step(event.screening, "screening", text)
    items = []
    for index, item in enumerate(event.items):
        changes = {
            name: text(f"items.{index}.{name}", getattr(item, name))
            for name in ("title", "where", "note")
            if getattr(item, name)
        }
        items.append(item.model_copy(update=changes) if changes else item)
    update["items"] = items
    if event.bundle:
        update["bundle"] = event.bundle.model_copy(
            update={
                "shared": [localize_step(s, "bundle.shared", text) for s in event.bundle.shared]
            }
        )
    return event.model_copy(update=update)


def localize_counter(counter: Counter, text: Callable[[str, str], str]) -> Counter:
    """A counter with its name, place, hours, services and accessibility notes looked up (unit
    `catalog`, paths of `shared_texts`)."""
    base = f"counters.{counter.id}"
    update: dict[str, object] = {
        name: text(f"{base}.{name}", getattr(counter, name))
        for name in ("name", "location", "hours")
    }
    if counter.booking:
        update["booking"] = counter.booking.model_copy(
            update={
                "services": [
                    s.model_copy(update={"name": text(f"{base}.services.{s.id}.name", s.name)})
                    for s in counter.booking.services
                ],
                "accessibility": [
                    text(f"{base}.accessibility.{n}", t)
                    for n, t in enumerate(counter.booking.accessibility)
                ],
            }
        )
    return counter.model_copy(update=update)
