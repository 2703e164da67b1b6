"""The correction loop on a real tiny project: cached predictions + review queue, corrected
pixels recorded per image, and a retrain that fine-tunes on the full set with them weighted up."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from segstudio.services import corrections, prediction_cache
from segstudio.services.demo import make_demo
from segstudio.store import learning

TINY = dict(filters=4, depth=2, crop=32, epochs=2, steps_per_epoch=2, batch=2)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop") / "demo"
    project, _ = make_demo(root, n=8, size=64, seed=3)
    run_id = corrections.train_with_corrections(project, dict(TINY))
    yield project, run_id
    project.close()


def test_weights_travel_with_crops_and_flips():
    """Per-pixel weights stay aligned with the labels through crop, rotation and flips."""
    from segstudio.ml.data import training_dataset
    from segstudio.ml.sampling import CropSampler

    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(3):
        lab = (rng.random((40, 40)) < 0.2).astype(np.uint8)
        pairs.append((rng.integers(0, 255, (40, 40), dtype=np.uint8), lab))
    counts = np.stack([np.bincount(lab.ravel(), minlength=2) for _, lab in pairs])
    ds = training_dataset(pairs.__getitem__, CropSampler(counts), crop=16, batch=4, channels=1, num_classes=2,
                          load_weights=lambda i: np.where(pairs[i][1] == 1, 5.0, 1.0).astype(np.float32))
    image, labels, weights = next(iter(ds))
    labels, weights = labels.numpy(), weights.numpy()
    assert image.shape == (4, 16, 16, 1) and weights.shape == (4, 16, 16)
    np.testing.assert_array_equal(weights, np.where(labels == 1, 5.0, 1.0))


def test_predictions_are_cached_scored_and_marked(trained):
    project, run_id = trained
    ids = [r.id for r in project.images()][:3]
    done = prediction_cache.predict_images(project, ids)
    assert done == ids
    for i in ids:
        c = prediction_cache.load_cached(project, i)
        rec = project.image(i)
        assert c.classes.shape == (rec.height, rec.width) and c.classes.dtype == np.uint8
        assert c.confidence.min() >= 0 and c.confidence.max() <= 1
        assert c.record.run_id == run_id and c.record.disagreement is not None  # demo images have masks
        assert prediction_cache.cache_file(project, i).exists()
        assert rec.status == "predicted"
    queue = prediction_cache.review_queue(project)
    assert [q.image_id for q in queue] == [i for i, _ in sorted(
        ((p.image_id, p.score) for p in learning.predictions(project)), key=lambda t: (-t[1], t[0]))]


def test_corrections_recorded_weighted_and_consumed_by_retrain(trained):
    project, run_id = trained
    rec = project.images("train", labelled_only=True)[0]
    ref = np.zeros((rec.height, rec.width), np.uint8)
    saved = ref.copy()
    saved[:4, :5] = 3
    assert corrections.record_save(project, rec.id, saved, ref) == 20
    saved[10, 10] = 1  # a second save adds to the same pending record
    assert corrections.record_save(project, rec.id, saved, saved * 0) == 21
    assert corrections.pending_summary(project) == (1, 21)
    bits = corrections.load_corrected(project, rec.id)
    assert bits.sum() == 21 and bits[:4, :5].all() and bits[10, 10]

    factory, ids = corrections.weight_factory(project, 5.0)
    train = project.images("train", labelled_only=True)
    k = [r.id for r in train].index(rec.id)
    load = factory(train)
    w = load(k)
    assert ids == [rec.id] and w[0, 0] == 5.0 and w[20, 20] == 1.0 and w.sum() == 21 * 5 + (w.size - 21)
    assert all(load(j) is None for j in range(len(train)) if j != k)

    run2 = corrections.train_with_corrections(project, {**TINY, "init_from": run_id}, correction_weight=5.0)
    r2 = project.run(run2)
    assert r2.status == "finished" and r2.parent_run_id == run_id
    assert r2.config["init_from"] == run_id
    assert corrections.pending_summary(project) == (0, 0)
    assert learning.correction(project, rec.id).applied_run_id == run2
    assert corrections.load_corrected(project, rec.id) is None
    assert corrections.load_corrected(project, rec.id, pending_only=False).sum() == 21


def test_refresh_scores_after_a_save(trained):
    project, _ = trained
    image_id = project.images()[0].id
    if prediction_cache.load_cached(project, image_id) is None:
        prediction_cache.predict_images(project, [image_id])
    c = prediction_cache.load_cached(project, image_id)
    score = prediction_cache.refresh_scores(project, image_id, c.classes.copy())  # mask == prediction
    assert prediction_cache.load_cached(project, image_id).record.disagreement == 0.0
    assert score == pytest.approx(c.record.rare_uncertainty)


def test_child_jobs_return_results_and_report_errors(tmp_path):
    """The JSON-lines child the GUI trains and predicts through: a result, and a user error."""
    from segstudio.services.subprocess_jobs import ChildError, ChildJob

    info = ChildJob("devices", {}).run()
    assert any(d["kind"] == "CPU" for d in info["devices"]) and info["versions"]["tensorflow"]
    events = []
    with pytest.raises(ChildError) as err:
        ChildJob("predict", {"root": str(tmp_path / "no_project"), "image_ids": [1]}).run(events.append)
    assert err.value.user and "no_project" in str(err.value)
    assert events == []
