"""Item 10 of issue 10: imports that used to go wrong silently are reported by file (and line)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from segstudio.core.classes import load_class_table
from segstudio.core.errors import BadFileError
from segstudio.services.project_import import import_folder


@pytest.fixture
def folders(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    return images, masks


def _labels() -> np.ndarray:
    m = np.zeros((32, 32), np.uint8)
    m[8:24, 8:24] = 1
    return m


def _skipped(report, root):
    return {p.relative_to(root).as_posix(): why for p, why in report.skipped}


def test_two_images_with_one_stem_do_not_share_a_mask(folders, tmp_path):
    images, masks = folders
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(images / "a.png")
    tifffile.imwrite(images / "a.tif", np.zeros((32, 32), np.uint8))
    Image.fromarray(_labels()).save(masks / "a.png")
    project, report = import_folder(tmp_path / "proj", images, masks)
    skipped = _skipped(report, tmp_path)
    assert list(skipped) == ["images/a.tif"] and "already the mask of a.png" in skipped["images/a.tif"]
    assert [r.path for r in project.images()] == ["../images/a.png"]
    project.close()


def test_two_masks_with_one_stem_are_reported(folders, tmp_path):
    images, masks = folders
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(images / "a.png")
    Image.fromarray(_labels()).save(masks / "a.png")
    tifffile.imwrite(masks / "a.tif", _labels())
    project, report = import_folder(tmp_path / "proj", images, masks)
    assert list(_skipped(report, tmp_path)) == ["masks/a.tif"]
    assert report.labelled == 1
    project.close()


def test_a_jpeg_mask_is_refused_not_turned_into_noise_classes(folders, tmp_path):
    images, masks = folders
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(images / "a.png")
    Image.fromarray(_labels() * 200).save(masks / "a.jpg", quality=50)
    project, report = import_folder(tmp_path / "proj", images, masks)
    skipped = _skipped(report, tmp_path)
    assert list(skipped) == ["masks/a.jpg"] and "lossy" in skipped["masks/a.jpg"]
    assert project.class_table().num_classes == 1
    project.close()


def test_a_multi_page_tiff_is_refused(folders, tmp_path):
    images, masks = folders
    for k in range(3):  # three pages: only the first used to be read
        tifffile.imwrite(images / "stack.tif", np.full((32, 32), k, np.uint8), append=True)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(images / "single.png")
    project, report = import_folder(tmp_path / "proj", images, masks)
    skipped = _skipped(report, tmp_path)
    assert list(skipped) == ["images/stack.tif"] and "3 pages" in skipped["images/stack.tif"]
    project.close()


def test_duplicate_class_colours_are_refused(tmp_path):
    table = tmp_path / "classes.csv"
    table.write_text("id,name,color\n0,bg,#000000\n1,road,#ff0000\n2,car,#FF0000\n")
    with pytest.raises(BadFileError, match=r"classes 1 \(road\) and 2 \(car\) have the same colour #ff0000"):
        load_class_table(table)


@pytest.mark.parametrize("row, fields", [("2,car", 2), ("2,car,#00ff00,no,extra", 5)])
def test_ragged_csv_rows_name_the_line(tmp_path, row, fields):
    table = tmp_path / "classes.csv"
    table.write_text(f"id,name,color,ignore\n0,bg,#000000,no\n1,road,#ff0000,no\n{row}\n")
    with pytest.raises(BadFileError) as e:
        load_class_table(table)
    assert str(table) in str(e.value) and f"line 4: {fields} field(s)" in str(e.value)
