"""services.annotation on a real demo project on disk: save + reindex, class edits, merge."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from segstudio.core.editing import MaskModel
from segstudio.core.errors import BadFileError, ProjectError
from segstudio.io.masks import MaskFormat, read_mask
from segstudio.services.annotation import (
    add_class,
    load_for_editing,
    merge_class_steps,
    merge_classes,
    save_mask,
    update_class,
)
from segstudio.services.demo import make_demo


@pytest.fixture
def demo(tmp_path):
    project, _ = make_demo(tmp_path / "demo", n=6, seed=1)
    yield project
    project.close()


def test_paint_save_reindex(demo):
    table = demo.class_table()
    rec = demo.images()[0]
    img = load_for_editing(demo, rec.id, table)
    assert img.labels.shape == img.pixels.shape[:2] and not img.new_mask
    model = MaskModel(img.labels)
    with model.stroke():
        model.paint_segment((10.5, 10.5), (60.5, 10.5), radius=4, value=31)
    painted = int((model.labels == 31).sum())
    before = demo.image_class_counts(rec.id).get(31, 0)
    save_mask(demo, img, model.labels, table)
    on_disk = read_mask(rec.abs_mask_path, table)
    assert on_disk.format == MaskFormat.INDEX8
    assert np.array_equal(on_disk.labels, model.labels)
    assert demo.image_class_counts(rec.id)[31] == int((model.labels == 31).sum()) >= painted
    assert demo.image_class_counts(rec.id)[31] > before
    assert sum(demo.image_class_counts(rec.id).values()) == 256 * 256


def test_unlabelled_image_gets_a_palette_mask(demo, tmp_path):
    table = demo.class_table()
    Image.fromarray(np.full((32, 40), 90, np.uint8)).save(tmp_path / "extra.png")
    image_id = demo.add_image(tmp_path / "extra.png", 40, 32)
    img = load_for_editing(demo, image_id, table)
    assert img.new_mask and img.labels.shape == (32, 40) and not img.labels.any()
    labels = img.labels.copy()
    labels[5:10, 5:10] = 3
    save_mask(demo, img, labels, table)
    rec = demo.image(image_id)
    assert rec.status == "labelled" and rec.abs_mask_path == img.mask_path
    assert Image.open(rec.abs_mask_path).mode == "P"
    assert demo.image_class_counts(image_id)[3] == 25


def test_new_masks_never_overwrite_files_of_same_named_images(demo, tmp_path):
    table = demo.class_table()
    paths = []
    for folder in ("a", "b"):
        (demo.root / folder).mkdir()
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(demo.root / folder / "same.png")
        img = load_for_editing(demo, demo.add_image(demo.root / folder / "same.png", 8, 8), table)
        labels = img.labels.copy()
        labels[0, 0] = 4 if folder == "a" else 5
        save_mask(demo, img, labels, table)
        paths.append(img.mask_path)
    assert paths[0] != paths[1] and all(p.is_file() for p in paths)
    assert read_mask(paths[0]).labels[0, 0] == 4 and read_mask(paths[1]).labels[0, 0] == 5


def test_predicted_becomes_corrected(demo):
    table = demo.class_table()
    rec = demo.images()[1]
    demo.set_status(rec.id, "predicted")
    img = load_for_editing(demo, rec.id, table)
    save_mask(demo, img, img.labels, table)
    assert demo.image(rec.id).status == "corrected"


def test_corrupt_image_raises_bad_file(demo):
    rec = demo.images()[2]
    rec.abs_path.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(BadFileError):
        load_for_editing(demo, rec.id)


def test_add_rename_recolour_ignore(demo):
    info = add_class(demo, "scratch")
    assert info.id == 32 and demo.class_table().get(32).name == "scratch"
    from dataclasses import replace

    update_class(demo, replace(info, name="dust", color=(1, 2, 3), ignore=True))
    got = demo.class_table().get(32)
    assert (got.name, got.color, got.ignore) == ("dust", (1, 2, 3), True)
    with pytest.raises(ProjectError):
        update_class(demo, replace(info, id=99))


def test_merge_rewrites_masks_with_backup(demo):
    totals = demo.class_totals()
    src = int(np.flatnonzero(totals.pixels[1:])[0]) + 1
    dst = 2 if src != 2 else 3
    with_src = demo.images_with_class(src)
    expected = totals.pixels[src] + totals.pixels[dst]
    report = merge_classes(demo, src, dst)
    assert report.rewritten == len(with_src) and not report.failed
    after = demo.class_totals()
    assert after.pixels[dst] == expected
    assert src not in demo.class_table()
    assert not demo.images_with_class(src)
    backups = sorted(report.backup_dir.rglob("*.png"))
    assert len(backups) == len(with_src)
    assert any((read_mask(b).labels == src).any() for b in backups)


def test_merge_reports_progress_and_refuses_nonsense(demo):
    steps = list(merge_class_steps(demo, 5, 6))
    assert steps[0][:2] == (0, steps[-1][1]) and steps[-1][0] == steps[-1][1]
    with pytest.raises(ProjectError):
        merge_classes(demo, 3, 3)
    with pytest.raises(ProjectError):
        merge_classes(demo, 0, 3)


def test_recolouring_is_refused_when_colour_masks_use_the_colours(tmp_path):
    from dataclasses import replace

    from segstudio.core.classes import ClassInfo, ClassTable
    from segstudio.io.masks import write_mask
    from segstudio.services.project_import import import_folder

    table = ClassTable([ClassInfo(0, "bg", (0, 0, 0)), ClassInfo(1, "a", (200, 0, 0))])
    (tmp_path / "im").mkdir()
    (tmp_path / "mk").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "im" / "x.png")
    labels = np.zeros((8, 8), np.uint8)
    labels[2:4, 2:4] = 1
    write_mask(tmp_path / "mk" / "x.png", labels, MaskFormat.RGB, table)
    (tmp_path / "classes.json").write_text('{"classes": [{"id": 0, "name": "bg", "color": "#000000"},'
                                           ' {"id": 1, "name": "a", "color": "#c80000"}]}')
    project, report = import_folder(tmp_path / "p", tmp_path / "im", tmp_path / "mk", tmp_path / "classes.json")
    assert report.labelled == 1 and project.images()[0].mask_format == "rgb"
    info = project.class_table().get(1)
    with pytest.raises(ProjectError, match="colour"):
        update_class(project, replace(info, color=(0, 0, 200)))
    update_class(project, replace(info, name="renamed"))  # renaming is fine
    assert project.class_table().get(1).name == "renamed"
    project.close()


def test_saving_records_the_corrected_pixels_without_any_view(demo):
    """Corrections are recorded where masks are saved (services.annotation), so every
    save path -- GUI or not -- feeds the next retrain."""
    from segstudio.services import corrections

    table = demo.class_table()
    rec = demo.images()[0]
    img = load_for_editing(demo, rec.id, table)
    loaded = img.labels.copy()
    model = MaskModel(img.labels)
    with model.stroke():
        model.paint_segment((5.5, 5.5), (30.5, 5.5), radius=3, value=31)
    save_mask(demo, img, model.labels, table)
    bits = corrections.load_corrected(demo, rec.id)
    assert bits is not None
    np.testing.assert_array_equal(bits, model.labels != loaded)
    assert corrections.pending_summary(demo) == (1, int((model.labels != loaded).sum()))
    # saving again without edits adds nothing: the reference follows the saved mask
    save_mask(demo, img, model.labels, table)
    assert corrections.pending_summary(demo)[1] == int((model.labels != loaded).sum())
