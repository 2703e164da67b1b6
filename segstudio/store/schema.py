"""Opening a project database: engine set-up, schema version checks, Alembic upgrades."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event

from segstudio.core.errors import ProjectError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def stored_revision(db_path: Path) -> str | None:
    """Read the schema revision without writing anything (read-only URI connection).

    The path is percent-encoded (a folder named 'Run #3' must not be cut at '#'), and
    without a '-wal' (or hot '-journal') file beside it the database is opened immutable,
    so a read-only look does not leave '-shm'/'-wal' files behind in the folder.
    """
    db_path = Path(db_path).resolve()
    live = any(db_path.with_name(db_path.name + s).exists() for s in ("-wal", "-journal"))
    uri = db_path.as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as e:
        raise ProjectError(f"{db_path}: cannot open the project database ({e})") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            if tables:
                raise ProjectError(f"{db_path}: not a segstudio project database (no schema version)")
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except sqlite3.DatabaseError as e:
        raise ProjectError(f"{db_path}: not a readable SQLite database ({e})") from None
    finally:
        con.close()


#: Seconds a write waits for another process's write lock before it gives up.
LOCK_TIMEOUT_S = 30.0

#: SQLite errors a user can act on -> the one line they get instead of a traceback.
_PLAIN_ERRORS = (
    ("database is locked", "another segstudio process has held the project's write lock for over "
                           "{timeout:g} s; try again when it has finished"),
    ("readonly database", "the project is read-only here, and this needs to change it"),
    ("malformed", "the database file is damaged ({error}); restore segstudio.db from a backup"),
    ("file is not a database", "the database file is damaged ({error}); restore segstudio.db from a backup"),
    ("disk is full", "the disk is full; free some space and try again"),
    ("disk I/O error", "disk I/O error (is the disk full?); check the disk and try again"),
)


def _raise_plain_errors(engine: Engine, db_path: Path) -> None:
    @event.listens_for(engine, "handle_error")
    def _plain(context):
        error = str(context.original_exception)
        for needle, text in _PLAIN_ERRORS:
            if needle in error:
                raise ProjectError(f"{db_path}: " + text.format(error=error, timeout=LOCK_TIMEOUT_S)) from None


def make_engine(db_path: Path) -> Engine:
    engine = create_engine(
        URL.create("sqlite", database=str(db_path)),  # no URL parsing: '%' or '#' in paths
        connect_args={"timeout": LOCK_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    _raise_plain_errors(engine, db_path)
    return engine


def _read_only_engine(db_path: Path) -> Engine:
    """For a database this process cannot write: reads work, and (with no -wal beside it)
    it is opened immutable, so no -wal/-shm files are left behind in the folder."""
    db_path = Path(db_path).resolve()
    live = db_path.with_name(db_path.name + "-wal").exists()
    uri = db_path.as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=LOCK_TIMEOUT_S, check_same_thread=False),
    )
    _raise_plain_errors(engine, db_path)
    return engine


def _writable(db_path: Path) -> bool:
    """access(2) also says no on a read-only file system, for root too."""
    return os.access(db_path, os.W_OK) and os.access(db_path.parent, os.W_OK)


def open_engine(db_path: Path, create: bool) -> Engine:
    """Check the schema version first (changing nothing), then upgrade to head if older."""
    if db_path.exists():
        rev = stored_revision(db_path)
        if rev is not None and rev not in known_revisions():
            raise ProjectError(
                f"{db_path}: written by a newer segstudio (schema {rev}); "
                f"this version knows up to {head_revision()}. Upgrade segstudio to open it."
            )
        if not _writable(db_path):
            if rev != head_revision():
                raise ProjectError(f"{db_path}: read-only, and its schema {rev} needs an upgrade to "
                                   f"{head_revision()}; open it once where it can be written")
            return _read_only_engine(db_path)
    elif not create:
        raise ProjectError(f"{db_path.parent}: no segstudio project here (missing {db_path.name})")
    engine = make_engine(db_path)
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except ProjectError:
        engine.dispose()
        raise
    except Exception as e:
        engine.dispose()
        raise ProjectError(f"{db_path}: cannot prepare the project database ({e})") from None
    return engine
