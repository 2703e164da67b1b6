"""Item 9 of issue 10: one stray 16-bit label value without a class table no longer makes
tens of thousands of classes; its mask is refused by name and the rest imported."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from segstudio.core.classes import load_class_table
from segstudio.core.errors import BadFileError
from segstudio.services.project_import import import_folder


def test_a_stray_large_label_id_is_refused_by_name(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for name, stray in (("a", None), ("b", 40000)):
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(images / f"{name}.png")
        labels = np.zeros((32, 32), np.uint16)
        labels[:4, :4], labels[4:8, :4] = 1, 2
        if stray is not None:
            labels[31, 31] = stray
        Image.fromarray(labels).save(masks / f"{name}.png")
    project, report = import_folder(tmp_path / "proj", images, masks)
    assert [(p, why.split(" with")[0]) for p, why in report.skipped] == [
        (masks / "b.png", "label value(s) 40000 above 1023")]
    assert project.class_table().num_classes == 3
    assert report.added == 1 and report.labelled == 1
    project.close()


def test_large_dense_ids_are_fine_with_a_class_table(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(images / "a.png")
    labels = np.zeros((32, 32), np.uint16)
    labels[0, 0] = 1100
    Image.fromarray(labels).save(masks / "a.png")
    rows = "".join(f"{i},c{i},#{i:06x}\n" for i in range(1200))
    (tmp_path / "classes.csv").write_text("id,name,color\n" + rows)
    project, report = import_folder(tmp_path / "proj", images, masks, tmp_path / "classes.csv")
    assert not report.skipped and report.labelled == 1
    project.close()


def test_a_class_table_with_sparse_large_ids_is_refused_by_name(tmp_path):
    table = tmp_path / "classes.csv"
    table.write_text("id,name,color\n0,bg,#000000\n1,road,#ff0000\n40000,rare,#00ff00\n")
    with pytest.raises(BadFileError) as e:
        load_class_table(table)
    assert str(table) in str(e.value) and "ids go up to 40000 for 3 classes" in str(e.value)
