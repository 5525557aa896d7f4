"""The queue's schema under Alembic, and its engines' lifecycle, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, DateTime, bindparam, create_engine, event, inspect, text
from typer.testing import CliRunner

from apps.cli.main import app
from kuntaflow.workitems import ItemState, MigrationError, WorkQueue, current_revision, engines, upgrade_database
from kuntaflow.workitems.migrate import FIRST_REVISION, HEAD_REVISION, MIGRATIONS_DIR
from kuntaflow.workitems.schema import metadata

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _schema_of(url: str) -> list[tuple]:
    """Every table, column, index and constraint of the queue as the database itself describes them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                # A table's CREATE text shows where ALTER TABLE put a column, not what the table is: its
                # columns, foreign keys and unique indexes are compared as SQLite describes them instead.
                rows = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name != 'alembic_version' ORDER BY name")).all()
                described = [tuple(row) if row.type == "index" else (row.type, row.name) for row in rows]
                for table in [row.name for row in rows if row.type == "table"]:
                    described += [(table, *row) for row in conn.execute(text(f"PRAGMA table_xinfo('{table}')"))]
                    described += [(table, *row) for row in conn.execute(text(f"PRAGMA foreign_key_list('{table}')"))]
                    # (name, unique, origin, partial); not the position, which is the order the indexes were made in
                    described += sorted((table, *row[1:]) for row in conn.execute(text(f"PRAGMA index_list('{table}')")))
                return described
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            columns = conn.execute(
                text(
                    "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name LIKE 'kf_%' ORDER BY table_name, ordinal_position"
                )
            )
            indexes = conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename LIKE 'kf_%' ORDER BY indexname")
            )
            constraints = conn.execute(
                text(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text LIKE 'kf_%' ORDER BY 1, 2"
                )
            )
            described = [tuple(row) for row in [*columns, *indexes, *constraints]]
            return [tuple(str(value).replace(f"{schema}.", "") for value in row) for row in described]
    finally:
        engine.dispose()


def _create_all(url: str, *, before_migrations: bool = False) -> None:
    """The schema's tables made by ``create_all``: today's, or those every queue made before migrations."""
    if before_migrations:
        # The first revision is what create_all made then; without Alembic's table it is such a database.
        upgrade_database(url, FIRST_REVISION)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        engine.dispose()
        return
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def test_the_newest_revision_is_the_one_the_queue_checks_for():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_the_migrations_make_exactly_the_tables_create_all_made(queue_url, another_queue_url):
    _create_all(another_queue_url)
    assert upgrade_database(queue_url) == HEAD_REVISION
    migrated = _schema_of(queue_url)
    assert migrated == _schema_of(another_queue_url)
    assert any("ix_kf_work_items_active" in str(row) and "NEW" in str(row) for row in migrated), "the partial index lost its predicate"


def test_a_database_made_before_migrations_is_stamped_and_keeps_its_items(queue_url):
    _create_all(queue_url, before_migrations=True)
    engine = create_engine(queue_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO kf_work_items (process, reference, payload, state, attempts, max_attempts, created_at, updated_at)"
                " VALUES ('p', 'old', :payload, 'NEW', 0, 5, :at, :at)"
            ).bindparams(bindparam("payload", type_=JSON), bindparam("at", type_=DateTime(timezone=True))),
            {"payload": {"n": 1}, "at": WHEN},
        )
    engine.dispose()
    assert current_revision(queue_url) is None
    with WorkQueue(queue_url) as queue:
        assert queue.find("p", "old").payload == {"n": 1}
    assert current_revision(queue_url) == HEAD_REVISION


def _write_on_first_revision(url: str) -> None:
    """An item with its payload, a checkpoint and audit rows, written as the first revision's tables hold them."""
    engine = create_engine(url)
    stamp = bindparam("at", type_=DateTime(timezone=True))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO kf_work_items (id, process, reference, payload, state, attempts, max_attempts, error_type, error_code, error_message,"
                " created_at, updated_at) VALUES (1, 'library_card', 'ref-1', :payload, 'APPLICATION_FAILED', 1, 5, 'APPLICATION', 'UNAVAILABLE',"
                " 'koha answered 503', :at, :at)"
            ).bindparams(bindparam("payload", type_=JSON), stamp),
            {"payload": {"name": "Maija", "library": "Kirjasto"}, "at": WHEN},
        )
        conn.execute(
            text("INSERT INTO kf_work_item_checkpoints (item_id, step, data, created_at) VALUES (1, 'patron_created', :data, :at)").bindparams(
                bindparam("data", type_=JSON), stamp
            ),
            {"data": {"patron_id": 42}, "at": WHEN},
        )
        for action, to_state in (("add", "NEW"), ("claim", "IN_PROGRESS"), ("fail_application", "APPLICATION_FAILED")):
            conn.execute(
                text("INSERT INTO kf_work_item_audit (item_id, at, actor, action, to_state) VALUES (1, :at, 'robot-1', :action, :to_state)").bindparams(stamp),
                {"at": WHEN, "action": action, "to_state": to_state},
            )
        if engine.dialect.name == "postgresql":  # explicit ids leave the sequence behind; a real queue never writes them
            conn.execute(text("SELECT setval(pg_get_serial_sequence('kf_work_items', 'id'), 1)"))
    engine.dispose()


def test_items_written_on_the_first_revision_read_back_after_upgrading_to_the_newest(queue_url):
    assert upgrade_database(queue_url, FIRST_REVISION) == FIRST_REVISION
    _write_on_first_revision(queue_url)
    assert upgrade_database(queue_url) == HEAD_REVISION
    with WorkQueue(queue_url) as queue:
        item = queue.get(1)
        assert (item.reference, item.state, item.attempts, item.error_code) == ("ref-1", ItemState.APPLICATION_FAILED, 1, "UNAVAILABLE")
        assert item.payload == {"name": "Maija", "library": "Kirjasto"}
        assert item.created_at == WHEN
        assert queue.checkpoints(1) == {"patron_created": {"patron_id": 42}}
        assert [(entry.action, entry.to_state) for entry in queue.audit(1)] == [
            ("add", ItemState.NEW),
            ("claim", ItemState.IN_PROGRESS),
            ("fail_application", ItemState.APPLICATION_FAILED),
        ]
        # The upgraded queue works on: the old item is claimed again and a new one is added after it.
        assert [claimed.id for claimed in queue.claim("library_card", owner="robot-2")] == [1]
        assert queue.add("library_card", reference="ref-2", payload={}).id == 2


def test_an_unknown_revision_is_a_clear_error(queue_url):
    with pytest.raises(MigrationError, match="no_such_revision"):
        upgrade_database(queue_url, "no_such_revision")


def test_queues_on_one_database_share_its_engine_and_check_its_revision_once(queue_url):
    first = WorkQueue(queue_url)
    checks: list[str] = []

    def listener(conn, cursor, statement, *rest):
        checks.append(statement)

    event.listen(first._engine, "before_cursor_execute", listener)
    with WorkQueue(queue_url) as second:
        assert second._engine is first._engine
        second.add("p", reference="a", payload={})
    assert not [statement for statement in checks if "alembic_version" in statement], "the second queue checked the revision again"
    # Closing one queue leaves the other working.
    assert first.find("p", "a") is not None
    first.close()
    first.close()  # idempotent: it does not release someone else's hold
    assert first._engine.pool.checkedin() == 0, "the last queue closed but the pool kept its connections"
    event.remove(first._engine, "before_cursor_execute", listener)


def _child_sees_its_own_engine(url: str, parent_engine_id: int, results) -> None:
    with WorkQueue(url) as queue:
        results.put((id(queue._engine) != parent_engine_id, len(queue.list())))


def test_a_forked_child_builds_its_own_engine_and_leaves_the_parents_pool_alone(queue_url):
    with WorkQueue(queue_url) as queue:
        queue.add("p", reference="a", payload={})
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_child_sees_its_own_engine, args=(queue_url, id(queue._engine), results))
        child.start()
        own_engine, seen = results.get(timeout=60)
        child.join(60)
        assert child.exitcode == 0 and own_engine and seen == 1
        assert queue.find("p", "a") is not None, "the parent's connections were disturbed by the child"


def test_dispose_engines_closes_the_pools_and_open_queues_reconnect(queue_url):
    with WorkQueue(queue_url) as queue:
        queue.add("p", reference="a", payload={})
        engines.dispose_engines()
        assert queue._engine.pool.checkedin() == 0
        assert queue.find("p", "a") is not None


def test_kuntaflow_db_upgrade_migrates_the_configured_database_once(queue_url, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", queue_url)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "current"]).output.strip() == "none"
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"from revision (none) to {HEAD_REVISION}" in first.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert runner.invoke(app, ["db", "current"]).output.strip() == HEAD_REVISION


def test_kuntaflow_db_upgrade_names_an_unreachable_database_without_its_password(monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", "postgresql+psycopg://kf:secret@127.0.0.1:1/x")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "kf:***@127.0.0.1:1/x" in result.output and "secret" not in result.output


@pytest.mark.parametrize("made_at", ["0003", "0004"])
def test_a_database_on_either_branch_from_0002_upgrades_to_the_join(queue_url, made_at):
    """0003 (the Desk) and 0004 (the person vault) were made side by side; 0005 joins them."""
    upgrade_database(queue_url, made_at)
    assert upgrade_database(queue_url) == HEAD_REVISION
    engine = create_engine(queue_url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn)
            assert {"version", "assignee"} <= {column["name"] for column in tables.get_columns("kf_work_items")}
            assert tables.has_table("kf_person_vault")
    finally:
        engine.dispose()
