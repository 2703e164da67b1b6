"""store: the project database on disk — migrations, version guard, pragmas, cascades, threads."""

from __future__ import annotations

import math
import os
import sqlite3
import sys
import threading

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from segstudio.core.classes import ClassInfo, ClassTable
from segstudio.core.errors import ProjectError
from segstudio.store.models import Base
from segstudio.store.project import DB_NAME, CountUpdate, Project
from segstudio.store.schema import head_revision, make_engine

TABLES = {"classes", "images", "class_counts", "training_runs", "epoch_metrics", "models", "settings"}


def _tables(db) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()


def _version(db) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()


def _snapshot(folder):
    """Bytes and mtime of every file in the folder (sorted by name)."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()
    }


# -- migrations ------------------------------------------------------------------------

def test_migrations_up_from_empty_database(tmp_path):
    with Project.create(tmp_path / "p") as project:
        db = project.db_path
    assert db == (tmp_path / "p" / DB_NAME).resolve()
    assert TABLES | {"alembic_version"} <= _tables(db)
    assert _version(db) == head_revision()


def test_migrations_up_from_zero_byte_file(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / DB_NAME).write_bytes(b"")
    with Project.open(tmp_path / "p"):
        pass
    assert _version(tmp_path / "p" / DB_NAME) == head_revision()
    assert TABLES <= _tables(tmp_path / "p" / DB_NAME)


def test_migrated_schema_matches_the_orm(tmp_path):
    """The migration chain builds exactly the tables the ORM models describe."""
    with Project.create(tmp_path / "p") as project:
        engine = make_engine(project.db_path)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    # type/nullable nuances are not schema drift; missing/extra tables, columns or keys are
    structural = [d for d in diff if not (isinstance(d, list) or d[0].startswith("modify_"))]
    assert structural == []


def test_reopening_is_idempotent(tmp_path):
    with Project.create(tmp_path / "p") as p:
        p.set_class_table(ClassTable.from_ids([0, 1, 2]))
    for _ in range(2):
        with Project.open(tmp_path / "p") as p:
            assert p.class_table().ids == [0, 1, 2]
    assert _version(tmp_path / "p" / DB_NAME) == head_revision()


def test_future_schema_version_is_refused_and_file_untouched(tmp_path):
    folder = tmp_path / "p"
    with Project.create(folder) as p:
        p.set_class_table(ClassTable.from_ids([0, 1]))
    con = sqlite3.connect(folder / DB_NAME)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    before = _snapshot(folder)
    with pytest.raises(ProjectError) as err:
        Project.open(folder)
    msg = str(err.value)
    assert "9999_from_the_future" in msg and "newer" in msg
    assert _snapshot(folder) == before  # same files, same bytes, same mtimes
    # create() must refuse the same way, not migrate over it
    with pytest.raises(ProjectError):
        Project.create(folder)
    assert _snapshot(folder) == before


@pytest.mark.parametrize(
    "content",
    [b"this is a text file, not a database\n" * 20, b"\x00" * 4096, os.urandom(2048)],
)
def test_non_sqlite_file_is_a_clear_error(tmp_path, content):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / DB_NAME).write_bytes(content)
    before = _snapshot(folder)
    with pytest.raises(ProjectError) as err:
        Project.open(folder)
    assert DB_NAME in str(err.value)
    assert "database" in str(err.value)
    assert _snapshot(folder) == before


def test_foreign_sqlite_database_is_refused(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    con = sqlite3.connect(folder / DB_NAME)
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    before = _snapshot(folder)
    with pytest.raises(ProjectError) as err:
        Project.open(folder)
    assert "not a segstudio project" in str(err.value)
    assert _snapshot(folder) == before


def test_open_missing_project(tmp_path):
    with pytest.raises(ProjectError):
        Project.open(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError) as err:
        Project.open(tmp_path / "empty")
    assert DB_NAME in str(err.value)
    assert not (tmp_path / "empty" / DB_NAME).exists()


def test_open_accepts_the_db_file_itself(empty_project):
    with Project.open(empty_project.db_path) as p:
        assert p.root == empty_project.root


# -- pragmas ---------------------------------------------------------------------------

def test_wal_and_foreign_keys(empty_project):
    with empty_project.session() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
    # WAL is a property of the file: a plain connection sees it too
    con = sqlite3.connect(empty_project.db_path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_foreign_keys_enforced(empty_project):
    with pytest.raises(Exception, match="FOREIGN KEY"):
        empty_project.set_counts([CountUpdate(12345, np.array([1, 2]), 0, 1, 1.0)])


# -- images and counts -----------------------------------------------------------------

def _add(project, name, w=4, h=3, **kw) -> int:
    path = project.root / name
    return project.add_image(path, w, h, **kw)


def test_cascade_delete_of_counts(empty_project):
    p = empty_project
    a = _add(p, "a.png", mask_path=p.root / "a_mask.png")
    b = _add(p, "b.png", mask_path=p.root / "b_mask.png")
    p.set_counts([
        CountUpdate(a, np.array([10, 2, 0, 0]), 0, 100, 1.5),
        CountUpdate(b, np.array([11, 0, 1, 0]), 0, 100, 1.5),
    ])
    assert p.image_class_counts(a) == {0: 10, 1: 2}
    p.remove_image(a)
    with p.session() as s:
        rows = s.execute(text("SELECT image_id, class_id, pixels FROM class_counts ORDER BY class_id")).all()
    assert [tuple(r) for r in rows] == [(b, 0, 11), (b, 2, 1)]
    assert p.image_class_counts(a) == {}
    assert [r.id for r in p.images()] == [b]


def test_add_image_upserts_and_paths_are_relative(empty_project, tmp_path):
    p = empty_project
    i1 = _add(p, "sub/x.png", w=5, h=6)
    i2 = _add(p, "sub/x.png", w=5, h=6, mask_path=p.root / "m/x.png", mask_format="index8")
    assert i1 == i2
    rec = p.image(i1)
    assert rec.path == "sub/x.png" and rec.mask_path == "m/x.png"
    assert rec.abs_path == p.root / "sub" / "x.png"
    assert rec.labelled and rec.status == "labelled"
    far = tmp_path / "elsewhere.png"  # one level up from the project: still relative
    assert p.relativize(far) == "../elsewhere.png"
    assert p.resolve(p.relativize(far)) == far.resolve()
    with pytest.raises(ValueError):
        _add(p, "y.png", split="holdout")
    with pytest.raises(ProjectError):
        p.image(999)


def test_counts_matrix_and_totals(empty_project):
    p = empty_project
    p.set_class_table(ClassTable.from_ids([0, 1, 2]))
    a = _add(p, "a.png", w=4, h=4, mask_path=p.root / "ma.png")
    b = _add(p, "b.png", w=2, h=2, mask_path=p.root / "mb.png", split="val")
    _add(p, "c.png")  # unlabelled
    p.set_counts([
        CountUpdate(a, np.array([12, 4, 0]), 0, 1, 1.0),
        CountUpdate(b, np.array([1, 0, 2]), 1, 1, 1.0),
    ])
    ids, mat = p.counts_matrix()
    assert ids == [a, b]
    assert mat.tolist() == [[12, 4, 0], [1, 0, 2]]
    t = p.class_totals()
    assert t.pixels.tolist() == [13, 4, 2]
    assert t.images.tolist() == [2, 1, 1]
    assert t.pixels_of_images_with_class.tolist() == [20, 16, 4]
    assert (t.ignored, t.n_images, t.n_labelled) == (1, 3, 2)
    tv = p.class_totals(split="val")
    assert tv.pixels.tolist() == [1, 0, 2] and tv.n_labelled == 1


def test_class_table_round_trip(empty_project):
    table = ClassTable([
        ClassInfo(0, "background", (0, 0, 0)),
        ClassInfo(7, "rare thing", (1, 2, 3)),
        ClassInfo(255, "void", (224, 224, 192), ignore=True),
    ])
    empty_project.set_class_table(table)
    assert empty_project.class_table() == table
    empty_project.set_class(ClassInfo(7, "renamed", (9, 9, 9)))
    assert empty_project.class_table().get(7).name == "renamed"


# -- runs, epochs, models ----------------------------------------------------------------

def test_runs_epochs_models_round_trip(empty_project):
    p = empty_project
    cfg = {"loss": "focal", "epochs": 3, "crop": [64, 64], "nested": {"a": 1}}
    r = p.create_run(cfg, np.array([0.5, 2.0, 3.25]))
    p.add_epoch(r, 0, train_loss=1.0, val_loss=1.2, fg_miou=0.1, pixel_accuracy=0.9,
                per_class_iou=[0.9, float("nan"), 0.1], seconds=1.5)
    p.add_epoch(r, 1, train_loss=float("inf"), fg_miou=0.3, per_class_iou=[0.95, 0.2, 0.4],
                alarm="collapse")
    p.add_epoch(r, 2, fg_miou=0.2)
    p.add_epoch(r, 1, train_loss=0.5, fg_miou=0.3, per_class_iou=[0.95, 0.2, 0.4])  # overwrite
    p.finish_run(r, "done", message="ok", model_path="m.keras", checkpoint_path="ck.keras")
    child = p.create_run({}, [1.0], parent_run_id=r)

    run = p.run(r)
    assert run.config == cfg
    assert run.class_weights == [0.5, 2.0, 3.25]
    assert run.status == "done" and run.message == "ok"
    assert run.model_path == "m.keras" and run.checkpoint_path == "ck.keras"
    assert run.best_fg_miou == pytest.approx(0.3)
    assert run.finished_at is not None and run.finished_at >= run.created_at
    assert p.run(child).parent_run_id == r
    assert [x.id for x in p.runs()] == [r, child]

    eps = p.epochs(r)
    assert [e.epoch for e in eps] == [0, 1, 2]
    assert eps[0].per_class_iou[1] is None  # NaN stored as null, not a JSON error
    assert eps[0].seconds == 1.5
    assert eps[1].train_loss == 0.5 and eps[1].alarm is None
    assert all(v is None or math.isfinite(v) for e in eps for v in e.per_class_iou)

    m = p.add_model(r, "out/model.keras", "keras", {"classes": ["bg", "a"], "weights": [1, 2]})
    assert [(x.id, x.run_id, x.path, x.format, x.card) for x in p.models()] == [
        (m, r, "out/model.keras", "keras", {"classes": ["bg", "a"], "weights": [1, 2]})
    ]

    p.update_run(child, status="failed", message="boom")
    assert p.run(child).status == "failed"
    with pytest.raises(ValueError):
        p.update_run(child, best_fg_miou=1.0)
    with pytest.raises(ProjectError):
        p.run(999)

    # deleting a run removes its epochs and detaches its models and children
    with p.session() as s, s.begin():
        s.execute(text("DELETE FROM training_runs WHERE id = :r"), {"r": r})
    assert p.epochs(r) == []
    assert p.models()[0].run_id is None
    assert p.run(child).parent_run_id is None


def test_settings_round_trip(empty_project):
    assert empty_project.get_setting("x", 5) == 5
    empty_project.set_setting("x", {"a": [1, 2]})
    assert empty_project.get_setting("x") == {"a": [1, 2]}


# -- threads ---------------------------------------------------------------------------

def test_project_shared_by_two_threads_writing(empty_project):
    p = empty_project
    p.set_class_table(ClassTable.from_ids([0, 1, 2]))
    n = 40
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def images_worker():
        try:
            start.wait()
            for i in range(n):
                iid = _add(p, f"t/{i:03d}.png", mask_path=p.root / f"m/{i:03d}.png")
                p.set_counts([CountUpdate(iid, np.array([i + 1, 1, 0]), 0, i, float(i))])
        except BaseException as e:
            errors.append(e)

    def runs_worker():
        try:
            start.wait()
            r = p.create_run({"thread": "b"}, [1.0, 1.0, 1.0])
            for e in range(n):
                p.add_epoch(r, e, train_loss=1.0 / (e + 1), fg_miou=e / n, per_class_iou=[0.1] * 3)
                p.set_setting(f"k{e}", e)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=images_worker), threading.Thread(target=runs_worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert p.image_count() == n
    assert p.class_totals().pixels.tolist() == [sum(range(1, n + 1)), n, 0]
    (run,) = p.runs()
    assert len(p.epochs(run.id)) == n
    assert run.best_fg_miou == pytest.approx((n - 1) / n)
    assert p.get_setting(f"k{n - 1}") == n - 1


@pytest.mark.parametrize("name", ["Run #3", "what?", "50% done", "a%20b", "sp ace"])
def test_project_folder_with_uri_characters(tmp_path, name):
    """'#', '?' and '%' in a folder name must not cut the database path short."""
    if "?" in name and sys.platform == "win32":
        pytest.skip("'?' is not allowed in Windows file names")
    folder = tmp_path / name
    with Project.create(folder) as p:
        p.set_class_table(ClassTable.from_ids([0, 3]))
    with Project.open(folder) as p:
        assert p.class_table().ids == [0, 3]
    assert sorted(x.name for x in tmp_path.iterdir()) == [name]  # no stray database beside it
    assert sorted(x.name for x in folder.iterdir()) == [DB_NAME]
    con = sqlite3.connect(folder / DB_NAME)
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    with pytest.raises(ProjectError, match="newer"):
        Project.open(folder)


def test_future_version_still_in_the_wal_is_seen(tmp_path):
    """Another process (say, a newer segstudio) has the project open and its schema change
    sits in the -wal file, not yet in the main file: the version check must still see it."""
    folder = tmp_path / "p"
    Project.create(folder).close()
    con = sqlite3.connect(folder / DB_NAME)
    try:
        con.execute("PRAGMA wal_autocheckpoint=0")
        con.execute("UPDATE alembic_version SET version_num = 'ffff_newer'")
        con.commit()
        assert (folder / (DB_NAME + "-wal")).stat().st_size > 0
        main_before = (folder / DB_NAME).read_bytes()
        with pytest.raises(ProjectError, match="ffff_newer"):
            Project.open(folder)
        assert (folder / DB_NAME).read_bytes() == main_before
    finally:
        con.close()


def test_upgrade_from_the_first_revision_keeps_data(tmp_path):
    """A database left at the first schema revision is migrated to head on open, data kept."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from segstudio.store.schema import alembic_config

    cfg = alembic_config()
    first = [s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()][-1]
    folder = tmp_path / "old"
    folder.mkdir()
    engine = make_engine(folder / DB_NAME)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, first)
            conn.execute(text("INSERT INTO classes (id, name, color, ignore) VALUES (0, 'bg', '#000000', 0)"))
            conn.execute(text(
                "INSERT INTO images (path, width, height, channels, image_bytes, image_mtime, "
                "ignored_pixels, split, status, added_at) "
                "VALUES ('a.png', 4, 3, 1, 10, 1.0, 0, 'train', 'unlabelled', '2024-01-01 00:00:00')"
            ))
    finally:
        engine.dispose()
    assert _version(folder / DB_NAME) == first
    with Project.open(folder) as p:
        assert [r.path for r in p.images()] == ["a.png"]
        assert p.class_table().ids == [0]
    assert _version(folder / DB_NAME) == head_revision()
    assert TABLES <= _tables(folder / DB_NAME)


def test_a_run_whose_process_died_is_marked_interrupted(tmp_path):
    """A killed trainer cannot record its end; listing the runs notices its process is gone."""
    import subprocess
    import sys

    from segstudio.store.project import Project

    project = Project.create(tmp_path / "p")
    live = project.create_run({"epochs": 1}, [1.0, 2.0])
    # a run created by a process that has since exited
    code = (
        "import sys; from segstudio.store.project import Project; "
        "p = Project.open(sys.argv[1]); p.create_run({'epochs': 1}, [1.0, 2.0]); p.close()"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "p")], check=True, timeout=120)
    elsewhere = project.create_run({"epochs": 1}, [1.0])
    project.update_run(elsewhere, process_id=1, host="some-other-machine")
    assert all(r.status == "running" for r in project.runs())  # reading does not write
    assert len(project.mark_interrupted_runs()) == 1
    runs = {r.id: r for r in project.runs()}
    assert runs[live].status == "running"  # this process is alive
    dead = [r for r in runs.values() if r.status == "interrupted"]
    assert len(dead) == 1 and "killed or crashed" in dead[0].message
    assert runs[elsewhere].status == "running"  # another machine's run: left alone
    project.close()


def test_upgrade_to_0004_moves_a_running_runs_process_from_its_message_to_columns(tmp_path):
    """Runs from before revision 0004 named their process only in the message text."""
    import socket

    from alembic import command

    from segstudio.store.schema import alembic_config

    cfg = alembic_config()
    folder = tmp_path / "old"
    folder.mkdir()
    engine = make_engine(folder / DB_NAME)
    here = socket.gethostname()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
            for status, message in (("running", f"running in process 999999 on {here}"),
                                    ("finished", "finished 1 epochs")):
                conn.execute(text(
                    "INSERT INTO training_runs (created_at, status, config, class_weights, message) "
                    "VALUES ('2024-01-01 00:00:00', :status, '{}', '[]', :message)"),
                    {"status": status, "message": message})
    finally:
        engine.dispose()
    with Project.open(folder) as p:
        running, finished = p.runs()
        assert running.status == "running"  # opening and reading change nothing
        assert p.mark_interrupted_runs() == [running.id]  # pid 999999 is not alive here
        assert p.run(running.id).status == "interrupted" and p.run(finished.id).status == "finished"
    con = sqlite3.connect(folder / DB_NAME)
    try:
        rows = con.execute("SELECT process_id, host FROM training_runs ORDER BY id").fetchall()
    finally:
        con.close()
    assert rows == [(999999, here), (None, None)]
