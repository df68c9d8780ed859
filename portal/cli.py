"""Command-line interface: `flask catalog check|missing-translations`, `flask db
upgrade|downgrade|heads`, `flask demo load`, `flask audit verify`, `flask portal worker`, `flask
retention purge`, `flask mock-jpki fault`, `flask mock-pay deliver|store-pay`, `flask backup
create|restore` (and `flask staff ...`, `flask payments reconcile`). Each command says what it
did in one or two lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml
from flask import Flask, current_app
from flask.cli import AppGroup

from portal import furigana, migrate, ui_texts
from portal.audit.cli import audit_cli
from portal.catalog import CatalogError, easy_japanese, load_catalog, translations
from portal.i18n import LANGUAGES
from portal.migrate import alembic_config
from portal.mocks_db import mock_tables_wanted

catalog_cli = AppGroup("catalog", help="The procedure catalog.")
db_cli = AppGroup("db", help="Database migrations (Alembic).")
demo_cli = AppGroup("demo", help="Demonstration data.")
backup_cli = AppGroup("backup", help="Backup and restore of the database, uploads included.")
mock_jpki_cli = AppGroup("mock-jpki", help="The mock My Number card service (demo only).")


__all__ = ["alembic_config", "init_app"]


@catalog_cli.command("check")
@click.argument("path", required=False)
def catalog_check(path: str | None) -> None:
    """Validate the catalog (default: the configured procedure_catalog.yaml) and its translations.

    Translations (decision 0060), the page chrome's gettext strings included, are checked for
    the configured catalog, and for another catalog when it has a baseline of missing texts
    (catalog/translations-missing.yaml)."""
    configured = path is None
    path = path or current_app.config["CATALOG_PATH"]
    try:
        data = load_catalog(path)
    except CatalogError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(
        f"catalog OK: {len(data.procedures)} procedures, {len(data.life_events)} life events"
    )
    catalog_dir = translations.catalog_folder(Path(path))
    if not configured and not (catalog_dir / translations.BASELINE_NAME).exists():
        click.echo(f"translations: not checked (no {translations.BASELINE_NAME} beside {path})")
        return
    ui = _ui_strings()
    report, problems = translations.check_catalog_translations(data, catalog_dir, LANGUAGES, ui)
    _echo_counts(report)
    problems += _easy_japanese_problems(data, catalog_dir, ui, gated=configured)
    problems += _reading_problems(catalog_dir)
    if problems:
        listing = "\n".join(f"  {problem}" for problem in problems)
        click.echo(f"catalog translations:\n{listing}", err=True)
        sys.exit(1)


def _easy_japanese_problems(data, catalog_dir: Path, ui, gated: bool) -> list[str]:
    """The やさしい日本語 lint (decision 0069): figures printed; a breach not in the baseline is
    a problem (for another catalog than the configured one, only when it has a baseline)."""
    easy, japanese = easy_japanese.easy_texts(data, catalog_dir / translations.FOLDER_NAME, ui)
    measures = easy_japanese.measure_all(easy, japanese)
    click.echo(easy_japanese.summary(measures))
    baseline_path = catalog_dir / easy_japanese.BASELINE_NAME
    if not gated and not baseline_path.exists():
        click.echo(
            f"easy japanese: not gated (no {easy_japanese.BASELINE_NAME} beside the catalog)"
        )
        return []
    try:
        baseline = easy_japanese.read_baseline(baseline_path)
    except ValueError as error:
        return [str(error)]
    return easy_japanese.problems(measures, baseline)


def _reading_problems(catalog_dir: Path) -> list[str]:
    """The reading table of ふりがな (catalog/readings.yaml, decision 0069)."""
    path = catalog_dir / furigana.READINGS_NAME
    try:
        furigana.read_overrides(path)
    except (furigana.ReadingsError, yaml.YAMLError) as error:
        return [str(error)]
    if path.exists():
        count = len(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        click.echo(f"readings: {count} words with the catalog's own reading")
    return []


@catalog_cli.command("easy-japanese")
@click.argument("path", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every easy text, not only breaches.")
@click.option("--write", is_flag=True, help="Remove what is fixed now from the baseline.")
@click.option("--grow", is_flag=True, help="With --write: also add new breaches.")
def catalog_easy_japanese(path: str | None, show_all: bool, write: bool, grow: bool) -> None:
    """Measure every やさしい日本語 text (sentence length, kanji density, unchanged texts) and
    rewrite catalog/easy-japanese-baseline.yaml (only shrinking it unless --grow)."""
    entry = Path(path or current_app.config["CATALOG_PATH"])
    try:
        data = load_catalog(entry)
    except CatalogError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    catalog_dir = translations.catalog_folder(entry)
    easy, japanese = easy_japanese.easy_texts(
        data, catalog_dir / translations.FOLDER_NAME, _ui_strings()
    )
    measures = easy_japanese.measure_all(easy, japanese)
    for m in measures:
        if show_all or m.breaches:
            flags = f" [{', '.join(m.breaches)}]" if m.breaches else ""
            click.echo(f"{m.key}: {m.figures()}{flags}")
    click.echo(easy_japanese.summary(measures))
    if not write:
        return
    baseline_path = catalog_dir / easy_japanese.BASELINE_NAME
    baseline = easy_japanese.read_baseline(baseline_path)
    new = [
        f"{m.key}: {rule}"
        for m in measures
        for rule in m.breaches
        if rule not in baseline.get(m.key, set())
    ]
    if new and not grow:
        listing = "\n".join(f"  {line}" for line in new)
        click.echo(
            f"not written: {len(new)} breaches are not in {baseline_path.name} "
            f"(rewrite the texts; --grow adds them):\n{listing}",
            err=True,
        )
        sys.exit(1)
    baseline_path.write_text(easy_japanese.baseline_yaml(measures), encoding="utf-8")
    click.echo(f"written: {baseline_path}")


def _ui_strings():
    """The page chrome's strings and their .po translations (the configured app's templates)."""
    return ui_texts.ui_texts(), ui_texts.ui_translations(LANGUAGES)


def _echo_counts(report: translations.Report) -> None:
    for lang, keys in report.missing.items():
        unreviewed = len(report.unreviewed.get(lang, []))
        click.echo(
            f"translations {lang}: {len(keys)} of {report.total} texts missing, "
            f"{unreviewed} translated but not reviewed"
        )


@catalog_cli.command("missing-translations")
@click.argument("path", required=False)
@click.option("--lang", "only", help="List the texts of one language (missing ones by default).")
@click.option("--unreviewed", is_flag=True, help="With --lang: list the unreviewed texts instead.")
@click.option("--write", is_flag=True, help="Remove what is translated now from the baseline.")
@click.option("--grow", is_flag=True, help="With --write: also add new missing texts.")
def catalog_missing_translations(
    path: str | None, only: str | None, unreviewed: bool, write: bool, grow: bool
) -> None:
    """Count or list the texts without a translation (or not reviewed) per language, and
    rewrite catalog/translations-missing.yaml (only shrinking it unless --grow)."""
    entry = Path(path or current_app.config["CATALOG_PATH"])
    try:
        data = load_catalog(entry)
    except CatalogError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    catalog_dir = translations.catalog_folder(entry)
    report = translations.missing_report(
        data,
        catalog_dir / translations.FOLDER_NAME,
        LANGUAGES,
        _ui_strings(),
    )
    if report.problems:
        click.echo("\n".join(report.problems), err=True)
        sys.exit(1)
    if only:
        listing = report.unreviewed if unreviewed else report.missing
        for key in listing.get(only, []):
            click.echo(str(key))
        return
    _echo_counts(report)
    if not write:
        return
    baseline_path = catalog_dir / translations.BASELINE_NAME
    baseline = translations.read_baseline(baseline_path)
    new = [
        f"{lang}: {key}"
        for lang in translations.GATED
        for key in report.missing.get(lang, [])
        if key not in baseline.get(lang, set())
    ]
    if new and not grow:
        listing = "\n".join(f"  {line}" for line in new)
        click.echo(
            f"not written: {len(new)} missing texts are not in {baseline_path.name} "
            f"(translate them; --grow adds them):\n{listing}",
            err=True,
        )
        sys.exit(1)
    baseline_path.write_text(translations.baseline_yaml(report), encoding="utf-8")
    click.echo(f"wrote {baseline_path}")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the production schema; to head, also the mocks' tables where a mock is enabled."""
    for line in migrate.upgrade(
        current_app.config["DATABASE_URL"], revision, mocks=mock_tables_wanted(current_app.config)
    ):
        click.echo(line)


@db_cli.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    """Drop the mocks' tables (if any), then downgrade the production schema."""
    for line in migrate.downgrade(current_app.config["DATABASE_URL"], revision):
        click.echo(line)


@db_cli.command("heads")
def db_heads() -> None:
    """The head of the production chain and of the mocks' chain; each must have exactly one."""
    failed = False
    for chain, heads in migrate.heads(current_app.config["DATABASE_URL"]).items():
        for head in heads:
            click.echo(head if chain == "production" else f"{head} ({chain})")
        if len(heads) != 1:
            click.echo(f"{chain}: expected exactly one head, found {len(heads)}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demonstration data (idempotent)."""
    from portal.demo import load_demo_data

    for line in load_demo_data(current_app):
        click.echo(line)


@mock_jpki_cli.command("fault")
@click.argument("mode", type=click.Choice(["off", "down", "slow"]))
@click.argument("seconds", type=float, default=5.0)
def mock_jpki_fault(mode: str, seconds: float) -> None:
    """Simulate the card service being down or slow (every worker sees it at once)."""
    from portal.mock_jpki.views import fault_file

    path = fault_file()
    if mode == "off":
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("down" if mode == "down" else f"slow:{seconds}")
    click.echo(f"mock card service: {mode}")


@mock_jpki_cli.command("reset-pin")
@click.argument("card")
def mock_jpki_reset_pin(card: str) -> None:
    """Unlock a demo card after wrong PINs, as 暗証番号の初期化 at a city counter would."""
    from sqlalchemy import update

    from portal.db import db
    from portal.mock_jpki.models import MockCard

    unlocked = {"auth_failures": 0, "auth_locked": False, "sign_failures": 0, "sign_locked": False}
    db.session.execute(update(MockCard).where(MockCard.persona_id == card).values(**unlocked))
    db.session.commit()
    click.echo(f"mock card {card}: PINs reset")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_create(path: str) -> None:
    """Write a backup of the database (uploads included) to PATH, online."""
    from pathlib import Path

    from portal import backup, clock

    try:
        tables = backup.backup(current_app.config["DATABASE_URL"], Path(path), clock.now())
    except backup.BackupError as error:
        click.echo(f"backup not made: {error}", err=True)
        sys.exit(1)
    rows = sum(t.rows for t in tables)
    click.echo(f"backup written to {path}: {len(tables)} tables, {rows} rows")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def backup_restore(path: str) -> None:
    """Restore the backup at PATH into this (empty) database; then run `flask audit verify`."""
    from pathlib import Path

    from portal import backup

    try:
        tables = backup.restore(current_app.config["DATABASE_URL"], Path(path))
    except backup.BackupError as error:
        click.echo(f"restore refused: {error}", err=True)
        sys.exit(1)
    click.echo(f"restored {sum(t.rows for t in tables)} rows into {len(tables)} tables from {path}")


def init_app(app: Flask) -> None:
    from portal.jobs.worker import portal_cli
    from portal.payments.cli import payments_cli
    from portal.retention.cli import retention_cli
    from portal.staff.cli import staff_cli

    app.cli.add_command(staff_cli)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(portal_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(retention_cli)
    if app.config["MOCK_JPKI_ENABLED"]:
        app.cli.add_command(mock_jpki_cli)
    if app.config["MOCK_PAY_ENABLED"]:
        from portal.mock_pay.cli import mock_pay_cli

        app.cli.add_command(mock_pay_cli)
