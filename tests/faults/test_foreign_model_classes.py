"""Item 2 of issue 10: a model with other classes than the project is refused before it
predicts, and a mask with ids outside the class table is refused before it is written."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core.errors import BadFileError, SegstudioError
from segstudio.services import annotation


@pytest.fixture
def forty_class_model(tmp_path):
    from segstudio.ml.trainer import save_inference_model
    from segstudio.ml.unet import build_unet

    path = tmp_path / "foreign.keras"
    save_inference_model(build_unet(40, channels=1, depth=1, filters=2), path)
    return path


def test_a_model_with_other_classes_is_refused_before_predicting(tiny_project, forty_class_model):
    from segstudio.services import prediction_cache

    ids = [r.id for r in tiny_project.images()]
    statuses = [r.status for r in tiny_project.images()]
    with pytest.raises(SegstudioError) as e:
        prediction_cache.predict_images(tiny_project, ids, model_path=forty_class_model)
    msg = str(e.value)
    assert "40 classes" in msg and "has 4" in msg and str(forty_class_model) in msg
    assert [r.status for r in tiny_project.images()] == statuses
    assert not (tiny_project.root / prediction_cache.CACHE_DIR).exists()


def test_a_mask_with_unknown_ids_is_refused_before_it_is_written(tiny_project):
    """Accepting such a prediction used to write the mask (8-bit became 16-bit), then raise,
    and mark the image corrected."""
    rec = tiny_project.images(labelled_only=True)[0]
    tiny_project.set_status(rec.id, "predicted")
    before = rec.abs_mask_path.read_bytes()
    image = annotation.load_for_editing(tiny_project, rec.id)
    labels = image.labels.astype(np.uint16)
    labels[:4, :4] = 279
    labels[4:8, :4] = 37
    with pytest.raises(BadFileError, match=r"not in the class table: 37, 279"):
        annotation.save_mask(tiny_project, image, labels, tiny_project.class_table())
    assert rec.abs_mask_path.read_bytes() == before
    assert tiny_project.image(rec.id).status == "predicted"
