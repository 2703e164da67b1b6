"""Opening a project database: engine set-up, schema version checks, Alembic upgrades."""

from __future__ import annotations

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


def make_engine(db_path: Path) -> Engine:
    engine = create_engine(
        URL.create("sqlite", database=str(db_path)),  # no URL parsing: '%' or '#' in paths
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def open_engine(db_path: Path, create: bool) -> Engine:
    """Check the schema version first (changing nothing), then upgrade to head if older."""
    if db_path.exists():
        rev = stored_revision(db_path)
        if rev is not None and rev not in known_revisions():
            raise ProjectError(
                f"{db_path}: written by a newer segstudio (schema {rev}); "
                f"this version knows up to {head_revision()}. Upgrade segstudio to open it."
            )
    elif not create:
        raise ProjectError(f"{db_path.parent}: no segstudio project here (missing {db_path.name})")
    engine = make_engine(db_path)
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as e:
        engine.dispose()
        raise ProjectError(f"{db_path}: cannot prepare the project database ({e})") from None
    return engine
