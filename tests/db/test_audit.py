"""The audit log on the real database (SQLite and PostgreSQL): entries chain by hash, the
database refuses to edit or delete them, `verify` notices every edit, deletion, insertion and
reordering made by someone who lifted that refusal, concurrent appends still make one chain, and
a resident can be told which departments looked at an application."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.audit import AuditEntry, AuditHead
from tests.conftest import audit_log_writable

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("clean_db")]

T0 = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
CASE = "submission:ISM-2026-000123"


@pytest.fixture
def session(engine, clean_db):
    with Session(engine) as session:
        yield session


def minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n, microseconds=123_456)


def fill(engine) -> list[int]:
    """Five committed entries, every column filled in the middle one (the third)."""
    entries = [
        dict(actor="staff:7", action="sign_in", target="staff:7"),
        dict(actor="staff:7", action="view", target=CASE, department="kosodate"),
        dict(
            actor="staff:7",
            action="reveal",
            target=CASE,
            department="kosodate",
            reason="本人確認のため（電話照会）",
        ),
        dict(actor="resident:abcDEF-123_x", action="view", target=CASE),
        dict(actor="staff:7", action="sign_out", target="staff:7"),
    ]
    ids = []
    with Session(engine) as session:
        for n, entry in enumerate(entries):
            ids.append(audit.record(session, at=minutes(n), **entry).id)
        session.commit()
    return ids


def check(engine) -> audit.Verification:
    with Session(engine) as session:
        return audit.verify(session)


def tamper(engine, statement) -> None:
    """Run one statement with the append-only triggers lifted, as the database owner could."""
    with engine.begin() as connection, audit_log_writable(connection):
        connection.execute(statement)


# -- appending and verifying ------------------------------------------------------------------


def test_entries_chain_from_the_genesis_and_the_head_names_the_last(engine, session):
    ids = fill(engine)
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [r.id for r in rows] == ids
    assert rows[0].prev_hash == audit.GENESIS_HASH
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash
    assert rows[2].reason == "本人確認のため（電話照会）" and rows[2].at == minutes(2)
    head = session.get(AuditHead, 1)
    assert (head.last_id, head.last_hash) == (ids[-1], rows[-1].hash)
    assert audit.verify(session) == audit.Verification(True, 5, None, None)


def test_an_empty_log_verifies(session):
    assert audit.verify(session) == audit.Verification(True, 0, None, None)


def test_record_flushes_in_the_callers_transaction(engine, session):
    entry = audit.record(session, actor="system", action="export", target="export:daily", at=T0)
    assert entry.id is not None and len(entry.hash) == 64
    session.rollback()
    assert check(engine) == audit.Verification(True, 0, None, None)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_hash_covers_the_time_in_utc_whatever_the_zone_given(session):
    tokyo = dt.timezone(dt.timedelta(hours=9))
    entry = audit.record(
        session, actor="system", action="export", target="export:daily", at=T0.astimezone(tokyo)
    )
    session.commit()
    session.expire_all()
    assert session.get(AuditEntry, entry.id).at == T0
    assert audit.verify(session).ok


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(action="peek"), "unknown audit action"),
        (dict(actor="staff"), "actor"),
        (dict(actor="staff:"), "actor"),
        (dict(actor="resident:岬 花子"), "actor"),
        (dict(actor="someone"), "actor"),
        (dict(actor="staff:7\n"), "actor"),
        (dict(target="submission"), "target"),
        (dict(target="submission:岬花子"), "target"),
        (dict(target="submission:ISM 1"), "target"),
        (dict(target="person:hanako@example.jp"), "target"),
        (dict(target="submission:" + "A" * 120), "target"),
        (dict(department="子育て支援課"), "department"),
        (dict(department=None), "names the department"),
        (dict(reason="x" * 401), "longer than 400"),
        (dict(reason="ok\x00"), "control characters"),
        (dict(action="reveal", reason="   "), "needs a reason"),
        (dict(at=dt.datetime(2026, 11, 22, 10, 0)), "aware datetime"),
    ],
)
def test_invalid_entries_are_refused(session, fields, message):
    entry = dict(actor="staff:7", action="view", target=CASE, department="kosodate", at=T0)
    with pytest.raises(ValueError, match=message):
        audit.record(session, **(entry | fields))
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_reason_is_stored_stripped(session):
    def viewed(reason: str, action: str = "view") -> AuditEntry:
        return audit.record(
            session,
            actor="staff:7",
            action=action,
            target=CASE,
            department="kosodate",
            reason=reason,
            at=T0,
        )

    assert viewed("  本人からの問合せ\r\n（電話）\t ").reason == "本人からの問合せ\n（電話）"
    assert viewed(" ").reason is None
    assert viewed("字" * 400, "reveal").reason == "字" * 400
    session.commit()
    assert audit.verify(session).ok


# -- the database refuses edits ---------------------------------------------------------------


def test_the_database_refuses_update_and_delete(engine):
    ids = fill(engine)
    for statement in (
        update(AuditEntry).where(AuditEntry.id == ids[2]).values(reason="changed"),
        delete(AuditEntry).where(AuditEntry.id == ids[2]),
        delete(AuditEntry),
    ):
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)
    assert check(engine) == audit.Verification(True, 5, None, None)


def test_the_database_refuses_truncate_on_postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    fill(engine)
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_log"))
    assert check(engine).checked == 5


# -- verify notices tampering -----------------------------------------------------------------

EDITS = {
    "actor": "staff:8",
    "action": "view",
    "target": "submission:ISM-2026-000124",
    "department": "shimin",
    "reason": "本人確認のため(電話照会)",
    "at": minutes(2) + dt.timedelta(microseconds=1),
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


@pytest.mark.parametrize("column", list(EDITS))
def test_editing_any_column_of_a_middle_entry_breaks_the_chain_there(engine, column):
    ids = fill(engine)
    tamper(
        engine, update(AuditEntry).where(AuditEntry.id == ids[2]).values({column: EDITS[column]})
    )
    result = check(engine)
    assert (result.ok, result.first_bad_id, result.checked) == (False, ids[2], 2)
    assert result.problem


@pytest.mark.parametrize("column", ["department", "reason"])
def test_clearing_an_optional_column_breaks_the_chain(engine, column):
    ids = fill(engine)
    tamper(engine, update(AuditEntry).where(AuditEntry.id == ids[2]).values({column: None}))
    assert check(engine).first_bad_id == ids[2]


@pytest.mark.parametrize("position", [0, -1])
def test_editing_the_first_or_the_last_entry_breaks_the_chain(engine, position):
    ids = fill(engine)
    tamper(engine, update(AuditEntry).where(AuditEntry.id == ids[position]).values(target="x:1"))
    assert check(engine).first_bad_id == ids[position]


def test_deleting_a_middle_entry_breaks_the_chain_at_the_next(engine):
    ids = fill(engine)
    tamper(engine, delete(AuditEntry).where(AuditEntry.id == ids[2]))
    result = check(engine)
    assert (result.ok, result.first_bad_id) == (False, ids[3])
    assert result.problem == f"prev_hash is not the hash of entry {ids[1]}"


def test_deleting_the_first_entry_breaks_the_chain(engine):
    ids = fill(engine)
    tamper(engine, delete(AuditEntry).where(AuditEntry.id == ids[0]))
    assert check(engine).first_bad_id == ids[1]


def test_deleting_the_last_entry_leaves_the_head_pointing_at_nothing(engine):
    ids = fill(engine)
    tamper(engine, delete(AuditEntry).where(AuditEntry.id == ids[-1]))
    result = check(engine)
    assert (result.ok, result.first_bad_id, result.checked) == (False, ids[-1], 4)
    assert "deleted from the end" in result.problem


def test_deleting_every_entry_is_noticed(engine):
    ids = fill(engine)
    tamper(engine, delete(AuditEntry))
    assert check(engine) == audit.Verification(
        False,
        0,
        ids[-1],
        "the head names this entry but it is missing: the log ends at no entry"
        " (entries deleted from the end)",
    )


def test_swapping_two_entries_breaks_the_chain(engine, session):
    ids = fill(engine)
    columns = ["at", "actor", "action", "target", "department", "reason", "prev_hash", "hash"]
    second, third = (session.get(AuditEntry, i) for i in ids[1:3])
    values = [{c: getattr(row, c) for c in columns} for row in (second, third)]
    session.close()
    # The hash is unique: park one row's hash while the two swap.
    tamper(engine, update(AuditEntry).where(AuditEntry.id == ids[1]).values(hash="0" * 64))
    tamper(engine, update(AuditEntry).where(AuditEntry.id == ids[2]).values(values[0]))
    tamper(engine, update(AuditEntry).where(AuditEntry.id == ids[1]).values(values[1]))
    assert check(engine).first_bad_id == ids[1]


def test_a_forged_entry_in_place_of_another_breaks_the_chain_at_the_next(engine, session):
    """The forger recomputes the replaced entry's hash; the next entry still names the old one."""
    ids = fill(engine)
    old = session.get(AuditEntry, ids[2])
    forged = dict(
        at=old.at,
        actor="staff:8",
        action="view",
        target=CASE,
        department="kosodate",
        reason=None,
        prev_hash=old.prev_hash,
    )
    forged["hash"] = audit.entry_hash(**forged)
    session.close()
    tamper(engine, delete(AuditEntry).where(AuditEntry.id == ids[2]))
    tamper(engine, insert(AuditEntry).values(id=ids[2], **forged))
    result = check(engine)
    assert (result.first_bad_id, result.checked) == (ids[3], 3)


def test_an_entry_appended_behind_the_heads_back_is_noticed(engine, session):
    """Correctly chained, but not written by record(): the head does not name it."""
    ids = fill(engine)
    last = session.get(AuditEntry, ids[-1])
    content = dict(at=minutes(9), actor="system", action="export", target="export:all")
    digest = audit.entry_hash(last.hash, department=None, reason=None, **content)
    session.close()
    with engine.begin() as connection:  # appending is allowed; only the head is skipped
        connection.execute(
            insert(AuditEntry).values(id=ids[-1] + 1, prev_hash=last.hash, hash=digest, **content)
        )
    assert check(engine) == audit.Verification(
        False, 6, ids[-1] + 1, "the head does not name this entry or any after it"
    )


def test_a_head_with_another_hash_is_noticed(engine):
    ids = fill(engine)
    with engine.begin() as connection:
        connection.execute(update(AuditHead).values(last_hash="a" * 64))
    result = check(engine)
    assert (result.ok, result.first_bad_id) == (False, ids[-1])


def test_a_missing_head_row_is_noticed(engine):
    fill(engine)
    with engine.begin() as connection:
        connection.execute(delete(AuditHead))
    try:
        assert check(engine) == audit.Verification(False, 0, None, "audit_head has no row")
        with Session(engine) as session, pytest.raises(RuntimeError, match="audit_head"):
            audit.record(session, actor="system", action="export", target="export:1", at=T0)
    finally:
        with engine.begin() as connection:
            connection.execute(insert(AuditHead).values(id=1, last_hash=audit.GENESIS_HASH))


# -- concurrency ------------------------------------------------------------------------------


def test_concurrent_appends_make_one_chain(engine):
    threads_n, per_thread = 2, 20
    barrier = threading.Barrier(threads_n, timeout=30)
    errors: list[BaseException] = []

    def writer(member: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                with Session(engine) as session:
                    audit.record(
                        session,
                        actor=f"staff:{member}",
                        action="view",
                        target=f"submission:ISM-{member}-{n}",
                        department="shimin",
                        at=minutes(n),
                    )
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(m,)) for m in range(1, threads_n + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert check(engine) == audit.Verification(True, threads_n * per_thread, None, None)
    with Session(engine) as session:
        prev = session.scalars(select(AuditEntry.prev_hash)).all()
        assert len(set(prev)) == threads_n * per_thread  # nobody chained to a taken predecessor
        actors = session.scalars(select(AuditEntry.actor).distinct()).all()
        assert sorted(actors) == ["staff:1", "staff:2"]


def test_verify_while_others_append_sees_no_breakage(engine):
    """PostgreSQL reads at READ COMMITTED: entries committed during the walk are not errors."""
    done = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for n in range(40):
                with Session(engine) as session:
                    audit.record(
                        session, actor="system", action="export", target=f"export:{n}", at=T0
                    )
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    results = []
    while not done.is_set():
        results.append(check(engine))
    thread.join(timeout=120)
    assert errors == []
    assert [r for r in results if not r.ok] == []
    assert check(engine) == audit.Verification(True, 40, None, None)


# -- who looked at an application -------------------------------------------------------------


def test_views_of_lists_the_departments_that_looked_oldest_first(session):
    def add(minute, **entry):
        audit.record(session, at=minutes(minute), **entry)

    add(0, actor="staff:7", action="sign_in", target="staff:7")
    add(1, actor="staff:7", action="view", target=CASE, department="kosodate")
    add(2, actor="resident:abc", action="view", target=CASE)
    add(3, actor="staff:9", action="view", target="submission:ISM-OTHER", department="shimin")
    add(5, actor="staff:8", action="reveal", target=CASE, department="shimin", reason="照会")
    add(4, actor="staff:7", action="change", target=CASE, department="kosodate")
    add(6, actor="system", action="export", target=CASE)
    add(7, actor="staff:7", action="export", target=CASE, department="kosodate")
    session.commit()
    assert audit.views_of(session, CASE) == [
        ("kosodate", minutes(1)),
        ("kosodate", minutes(4)),
        ("shimin", minutes(5)),
        ("kosodate", minutes(7)),
    ]
    assert audit.views_of(session, "submission:ISM-NONE") == []


# -- flask audit verify -----------------------------------------------------------------------


def test_the_cli_says_ok_and_exits_0(app, engine):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert (result.exit_code, result.output) == (0, "audit log OK: 0 entries\n")
    fill(engine)
    result = runner.invoke(args=["audit", "verify"])
    assert (result.exit_code, result.output) == (0, "audit log OK: 5 entries\n")


def test_the_cli_names_the_broken_entry_and_exits_1(app, engine):
    ids = fill(engine)
    tamper(engine, update(AuditEntry).where(AuditEntry.id == ids[2]).values(actor="staff:8"))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output == (
        f"audit log BROKEN at entry {ids[2]}: hash does not match the content\n"
    )
