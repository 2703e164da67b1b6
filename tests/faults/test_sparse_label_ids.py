"""Item 9 of issue 10: one stray 16-bit label value without a class table no longer makes
tens of thousands of classes; its mask is refused by name and the rest imported."""

from __future__ import annotations

import numpy as np
from PIL import Image

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


def test_large_ids_are_fine_with_a_class_table(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(images / "a.png")
    labels = np.zeros((32, 32), np.uint16)
    labels[0, 0] = 2000
    Image.fromarray(labels).save(masks / "a.png")
    (tmp_path / "classes.csv").write_text("id,name,color\n0,bg,#000000\n2000,rare,#ff0000\n")
    project, report = import_folder(tmp_path / "proj", images, masks, tmp_path / "classes.csv")
    assert not report.skipped and report.labelled == 1
    project.close()
