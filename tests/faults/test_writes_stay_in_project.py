"""Items 1 and 7 of issue 10: class-merge backups and mask saves never write outside the
project and the folders it was imported from, whatever paths the database holds."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest
from PIL import Image

from segstudio.core.errors import ProjectError
from segstudio.services import annotation
from segstudio.services.project_import import import_folder
from segstudio.store.project import Project
from tests.conftest import write_tiny_dataset


def _point_mask_at(project: Project, image_id: int, path) -> None:
    """What a crafted segstudio.db does: store any path as a mask path."""
    with sqlite3.connect(project.db_path) as db:
        db.execute("UPDATE images SET mask_path = ? WHERE id = ?", (str(path), image_id))


def _victim(path, value: int = 2):
    """A file outside the project that happens to decode as a mask with class 2 in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((32, 32), value, np.uint8)).save(path)
    return path.read_bytes()


def test_merge_backup_stays_in_the_project_for_relative_mask_paths(tmp_path):
    """Masks stored as ``../../../masks/x.png``: the backup used to land on ``a/b/masks/x.png``."""
    ds = write_tiny_dataset(tmp_path)
    unrelated = tmp_path / "a" / "b" / "masks" / "img00.png"
    unrelated_bytes = _victim(unrelated, 3)
    project, _ = import_folder(tmp_path / "a" / "b" / "proj", ds.images_dir, ds.masks_dir, ds.classes_file)
    rec = next(r for r in project.images() if r.path.endswith("img00.png"))
    assert rec.mask_path.startswith("../../../masks/")
    before = {r.id: r.abs_mask_path.read_bytes() for r in project.images(labelled_only=True)}

    report = annotation.merge_classes(project, 2, 1)

    assert not report.failed, report.failed
    assert unrelated.read_bytes() == unrelated_bytes
    assert report.backup_dir.parent == project.root / "backups"
    index = json.loads((report.backup_dir / annotation.BACKUP_INDEX).read_text())
    assert len(index) == report.rewritten > 0
    for name, original in index.items():
        image_id = int(name.split("_", 1)[0])
        assert (report.backup_dir / name).read_bytes() == before[image_id]
        assert original == str(project.image(image_id).abs_mask_path)
    project.close()


def test_merge_with_absolute_mask_paths_backs_up_instead_of_failing(tmp_path):
    """Masks far away are stored by absolute path; the copy used to fail with 'are the same file'."""
    ds = write_tiny_dataset(tmp_path / "data")
    project, _ = import_folder(tmp_path / "a" / "b" / "c" / "d" / "proj", ds.images_dir, ds.masks_dir,
                               ds.classes_file)
    assert all(os.path.isabs(r.mask_path) for r in project.images(labelled_only=True))
    report = annotation.merge_classes(project, 2, 1)
    assert not report.failed, report.failed
    assert report.rewritten > 0 and len(list(report.backup_dir.iterdir())) == report.rewritten + 1
    assert 2 not in project.class_table()
    project.close()


def test_save_refuses_a_mask_path_outside_the_project(tiny_project, tmp_path):
    rec = tiny_project.images(labelled_only=True)[0]
    victim = tmp_path / "elsewhere" / "holiday.png"
    victim_bytes = _victim(victim)
    _point_mask_at(tiny_project, rec.id, os.path.relpath(victim, tiny_project.root))
    image = annotation.load_for_editing(tiny_project, rec.id)
    with pytest.raises(ProjectError, match="outside the project folder") as e:
        annotation.save_mask(tiny_project, image, np.zeros_like(image.labels), tiny_project.class_table())
    assert str(victim) in str(e.value) or "holiday.png" in str(e.value)
    assert victim.read_bytes() == victim_bytes
    assert tiny_project.image(rec.id).status == "labelled"


def test_save_refuses_a_symlink_out_of_the_project(tiny_project, tmp_path):
    rec = tiny_project.images(labelled_only=True)[0]
    victim = tmp_path / "elsewhere" / "holiday.png"
    victim_bytes = _victim(victim)
    link = tiny_project.root / "masks" / "link.png"
    link.parent.mkdir()
    link.symlink_to(victim)
    _point_mask_at(tiny_project, rec.id, "masks/link.png")
    image = annotation.load_for_editing(tiny_project, rec.id)
    with pytest.raises(ProjectError, match="outside the project folder"):
        annotation.save_mask(tiny_project, image, np.zeros_like(image.labels), tiny_project.class_table())
    assert victim.read_bytes() == victim_bytes


def test_merge_refuses_a_mask_path_outside_the_project(tiny_project, tmp_path):
    rec = tiny_project.images(labelled_only=True)[0]
    victim = tmp_path / "elsewhere" / "holiday.png"
    victim_bytes = _victim(victim)
    _point_mask_at(tiny_project, rec.id, victim)
    with sqlite3.connect(tiny_project.db_path) as db:  # counted as holding class 2
        db.execute("INSERT OR REPLACE INTO class_counts (image_id, class_id, pixels) VALUES (?, 2, 1)", (rec.id,))
    report = annotation.merge_classes(tiny_project, 2, 1)
    assert [p for p, _ in report.failed] == [victim]
    assert "outside the project folder" in report.failed[0][1]
    assert victim.read_bytes() == victim_bytes
    assert 2 in tiny_project.class_table()  # a failed merge keeps the class


def test_saves_in_the_imported_masks_folder_still_work(tiny_project, tiny_dataset):
    rec = tiny_project.images(labelled_only=True)[0]
    image = annotation.load_for_editing(tiny_project, rec.id)
    assert image.mask_path.parent == tiny_dataset.masks_dir
    annotation.save_mask(tiny_project, image, np.zeros_like(image.labels), tiny_project.class_table())
    assert not np.asarray(Image.open(image.mask_path)).any()
