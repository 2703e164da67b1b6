"""The ML commands end to end on a real on-disk project: train, predict, evaluate, export.

Also: the exported .keras file loads and predicts in a Python where segstudio cannot be imported.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from segstudio.cli import main
from segstudio.core import plan
from segstudio.core.metrics import confusion_matrix, edge_confusion, edge_tolerant_iou

TINY = ["--filters", "4", "--depth", "2", "--batch", "4", "--crop", "32", "--steps-per-epoch", "3"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.ml.conftest import make_tiny_project

    tmp = tmp_path_factory.mktemp("cli")
    project, src = make_tiny_project(tmp)
    out = tmp / "model.keras"
    rc = main(["train", str(project.root), *TINY, "--epochs", "2", "--seed", "3", "--out", str(out)])
    assert rc == 0
    return project, src, out, tmp


def test_train_records_the_run(trained, capsys):
    project, src, out, tmp = trained
    (run,) = project.runs()
    assert run.status == "finished" and run.model_path == str(out)
    assert len(run.class_weights) == 3  # void 255 is not an output
    assert run.config["loss"] == plan.LOSS and run.config["weights"] == plan.WEIGHT_SCHEME
    # the plan is recorded with the run, the user's values marked as theirs
    choices = {c["key"]: c for c in run.config["plan"]}
    assert choices["crop"]["source"] == "user" and choices["crop"]["value"] == 32
    assert choices["loss"]["source"] == "plan" and run.config["minutes"] is None  # epochs given
    epochs = project.epochs(run.id)
    assert [e.epoch for e in epochs] == [1, 2]
    assert all(len(e.per_class_iou) == 3 and e.seconds > 0 for e in epochs)
    assert run.checkpoint_path and (project.root / "runs").exists()
    card = json.loads(out.with_name("model.card.json").read_text())
    assert [c["name"] for c in card["classes"]] == ["background", "grey", "white", "void"]
    assert card["num_outputs"] == 3 and card["classes"][-1]["ignore"] is True
    assert card["class_weights"]["scheme"] == plan.WEIGHT_SCHEME and card["loss"] == plan.LOSS
    # the plan's strength 0: the scheme's weights are recorded, and that the loss used none of them
    assert card["class_weights"]["strength"] == 0 and card["class_weights"]["applied"] == [1.0, 1.0, 1.0]
    assert len(set(card["class_weights"]["values"])) > 1
    assert len(card["validation"]["per_class_iou"]) == 3
    assert project.models()[0].path.endswith("model.keras")


def test_predict_writes_index_pngs(trained, capsys):
    project, src, out, tmp = trained
    rc = main(["predict", str(out), str(src / "images"), "--out", str(tmp / "pred"), "--confidence"])
    assert rc == 0
    names = sorted(p.name for p in (tmp / "pred").glob("*.png"))
    assert names == sorted(p.name for p in (src / "images").glob("*.png"))
    im = Image.open(tmp / "pred" / "im00.png")
    assert im.mode == "L" and im.size == (64, 64)
    assert np.asarray(im).max() < 3
    conf = np.asarray(Image.open(tmp / "pred" / "confidence" / "im00.png"))
    assert conf.min() >= 255 // 3  # max of 3 probabilities is at least 1/3


def test_evaluate_json_matches_the_predicted_files(trained, capsys):
    project, src, out, tmp = trained
    main(["predict", str(out), str(src / "images"), "--out", str(tmp / "pred2")])
    capsys.readouterr()
    assert main(["evaluate", str(out), "--images", str(src / "images"), "--masks", str(src / "masks"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result) == ["per_class_iou", "fg_miou", "pixel_accuracy", "confusion",
                            "edge_tolerance_px", "edge_error_share", "edge_tolerant_iou"]
    cm = np.zeros((3, 3), np.int64)
    edge = np.zeros_like(cm)
    for p in sorted((src / "masks").glob("*.png")):
        truth = np.asarray(Image.open(p))
        pred = np.asarray(Image.open(tmp / "pred2" / p.name))
        confusion_matrix(truth, pred, 3, ignore_index=255, out=cm)
        edge_confusion(truth, pred, 3, ignore_index=255, out=edge)
    assert result["confusion"] == cm.tolist()
    assert result["pixel_accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    for got, want in zip(result["edge_tolerant_iou"], edge_tolerant_iou(cm, edge), strict=True):
        assert (got is None) if np.isnan(want) else got == pytest.approx(want)
    for strict, tolerant in zip(result["per_class_iou"], result["edge_tolerant_iou"], strict=True):
        assert strict is None or tolerant >= strict
    # table form: fg mIoU and pixel accuracy side by side, the edge columns explained
    assert main(["evaluate", str(out), "--images", str(src / "images"), "--masks", str(src / "masks")]) == 0
    text = capsys.readouterr().out
    assert "foreground mIoU" in text and "pixel accuracy" in text and "white" in text
    assert "IoU ±1 px" in text and "errors at edges" in text


def test_predict_and_evaluate_with_test_time_augmentation(trained, capsys):
    from segstudio.ml.predict import load_model, predict_image

    project, src, out, tmp = trained
    assert main(["predict", str(out), str(src / "images"), "--out", str(tmp / "tta"), "--tta", "8"]) == 0
    image = np.asarray(Image.open(src / "images" / "im00.png"))
    expected = predict_image(load_model(out), image, tta=8).classes
    assert np.array_equal(np.asarray(Image.open(tmp / "tta" / "im00.png")), expected)
    capsys.readouterr()
    args = ["evaluate", str(out), "--images", str(src / "images"), "--masks", str(src / "masks"), "--json"]
    assert main([*args, "--tta", "4"]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["pixel_accuracy"] <= 1
    with pytest.raises(SystemExit) as bad:
        main([*args, "--tta", "3"])
    assert bad.value.code == 2 and "--tta" in capsys.readouterr().err


ISOLATED = r"""
import sys, json
sys.modules["segstudio"] = None  # any attempt to import segstudio now fails
import numpy as np, keras
from PIL import Image
model = keras.saving.load_model(sys.argv[1], compile=False)
image = np.asarray(Image.open(sys.argv[2]), dtype="float32")[None, ..., None]
print(json.dumps(model.predict(image, verbose=0)[0].argmax(-1).tolist()))
"""


def test_keras_file_predicts_the_same_without_segstudio(trained, tmp_path):
    project, src, out, tmp = trained
    main(["predict", str(out), str(src / "images"), "--out", str(tmp / "pred3")])
    proc = subprocess.run(
        [sys.executable, "-I", "-c", ISOLATED, str(out), str(src / "images" / "im03.png")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    plain = np.array(json.loads(proc.stdout.strip().splitlines()[-1]))
    ours = np.asarray(Image.open(tmp / "pred3" / "im03.png"))
    assert np.array_equal(plain, ours)


def test_export_keras_and_savedmodel(trained, capsys):
    import tensorflow as tf

    project, src, out, tmp = trained
    assert main(["export", str(out), "--format", "keras", "--out", str(tmp / "exp" / "m.keras")]) == 0
    assert json.loads((tmp / "exp" / "m.card.json").read_text())["format"] == "keras"
    assert main(["export", str(out), "--format", "savedmodel", "--out", str(tmp / "exp" / "sm"),
                 "--project", str(project.root)]) == 0
    card = json.loads((tmp / "exp" / "sm.card.json").read_text())
    assert card["format"] == "savedmodel" and card["input"]["shape"][-1] == 1
    served = tf.saved_model.load(str(tmp / "exp" / "sm"))
    x = np.asarray(Image.open(src / "images" / "im01.png"), np.float32)[None, ..., None]
    probs = served.serve(tf.constant(x)).numpy()[0]
    ours = np.asarray(Image.open(tmp / "pred" / "im01.png")) if (tmp / "pred").exists() else None
    import keras

    ref = keras.saving.load_model(out, compile=False).predict(x, verbose=0)[0]
    assert np.allclose(probs, ref, atol=1e-5)
    if ours is not None:
        assert np.array_equal(probs.argmax(-1), ours)
    assert any(m.format == "savedmodel" for m in project.models())


def test_export_onnx_without_tf2onnx_is_one_clear_error(trained, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as if the optional extra were not installed
    project, src, out, tmp = trained
    assert main(["export", str(out), "--format", "onnx", "--out", str(tmp / "none.onnx")]) == 2
    err = capsys.readouterr().err
    assert "tf2onnx" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_resume_and_fine_tune_make_child_runs(trained, capsys):
    project, src, out, tmp = trained
    first = project.runs()[0].id
    assert main(["train", str(project.root), *TINY, "--epochs", "3", "--resume", str(first)]) == 0
    assert main(["train", str(project.root), *TINY, "--epochs", "1", "--init-from", str(first),
                 "--augment", "scale+intensity+flips"]) == 0
    runs = project.runs()
    resumed, tuned = runs[-2], runs[-1]
    assert resumed.parent_run_id == first and [e.epoch for e in project.epochs(resumed.id)] == [3]
    assert tuned.parent_run_id == first and tuned.status == "finished"
    assert resumed.config["augment"] == "flips" and tuned.config["augment"] == "flips+intensity+scale"
    text = capsys.readouterr().out
    assert "foreground mIoU" in text and "pixel accuracy" in text


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope")]) == 2
    assert main(["predict", str(tmp_path / "none.keras"), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2
    with pytest.raises(SystemExit):
        main(["train", str(tmp_path), "--augment", "flips+blur"])
    err = capsys.readouterr().err
    assert "unknown augmentation 'flips+blur'" in err and "Traceback" not in err


def test_export_onnx_predicts_like_keras(trained, capsys):
    pytest.importorskip("tf2onnx")
    ort = pytest.importorskip("onnxruntime")
    import keras

    project, src, out, tmp = trained
    assert main(["export", str(out), "--format", "onnx", "--out", str(tmp / "m.onnx")]) == 0, capsys.readouterr().err
    assert json.loads((tmp / "m.card.json").read_text())["format"] == "onnx"
    x = np.asarray(Image.open(src / "images" / "im02.png"), np.float32)[None, ..., None]
    sess = ort.InferenceSession(str(tmp / "m.onnx"), providers=["CPUExecutionProvider"])
    (probs,) = sess.run(None, {sess.get_inputs()[0].name: x})
    ref = keras.saving.load_model(out, compile=False).predict(x, verbose=0)
    assert np.allclose(probs, ref, atol=1e-4)


def test_train_project_in_a_worker_thread_can_be_cancelled(tiny_project):
    import threading

    from segstudio.services.training import train_project

    project, _ = tiny_project
    cancel = threading.Event()

    class StopAfterFirstEpoch:
        epochs = []

        def on_batch(self, epoch, step, steps, loss):
            if epoch == 2:
                cancel.set()

        def on_epoch(self, report):
            self.epochs.append(report.epoch)

        def on_message(self, text):
            pass

    box = {}
    config = {"filters": 4, "depth": 2, "batch": 4, "crop": 32, "steps_per_epoch": 2, "epochs": 5}
    t = threading.Thread(target=lambda: box.update(run=train_project(project, config, StopAfterFirstEpoch(), cancel)))
    t.start()
    t.join(180)
    run = project.run(box["run"])
    assert run.status == "cancelled" and StopAfterFirstEpoch.epochs == [1]
    assert [e.epoch for e in project.epochs(run.id)] == [1]
    assert run.model_path and run.checkpoint_path


def test_train_for_minutes_keeps_the_best_checkpoint_and_prints_the_plan(tmp_path, capsys):
    from tests.ml.conftest import make_tiny_project

    project, _ = make_tiny_project(tmp_path)
    assert main(["train", str(project.root), *TINY, "--minutes", "0.08", "--seed", "1"]) == 0
    out = capsys.readouterr()
    assert "plan (segstudio plan explains each choice):" in out.out and "minutes=0.08" in out.out
    (run,) = project.runs()
    assert run.status == "finished" and "0.08-minute budget spent" in run.message
    assert run.config["minutes"] == 0.08 and run.config["epochs"] > 1000  # epochs only cap it
    assert project.epochs(run.id)[0].val_pixels  # per-class validation pixels are recorded


def _rgb_project(tmp_path):
    """RGB images whose two classes differ only in hue: red and green squares of the same
    luminance (0.299 R = 0.587 G), so a model that saw gray could not tell them apart."""
    from segstudio.services.project_import import import_folder

    src = tmp_path / "rgb"
    (src / "images").mkdir(parents=True)
    (src / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        image = np.full((48, 48, 3), 30, np.uint8)
        labels = np.zeros((48, 48), np.uint8)
        for c, colour in ((1, (200, 0, 0)), (2, (0, 102, 0))):
            y, x = rng.integers(6, 42, 2)
            image[y - 5 : y + 5, x - 5 : x + 5] = colour
            labels[y - 5 : y + 5, x - 5 : x + 5] = c
        Image.fromarray(image).save(src / "images" / f"c{i}.png")
        Image.fromarray(labels).save(src / "masks" / f"c{i}.png")
    classes = [{"id": 0, "name": "background", "color": "#000000"},
               {"id": 1, "name": "red", "color": "#ff0000"}, {"id": 2, "name": "green", "color": "#00ff00"}]
    (src / "classes.json").write_text(json.dumps({"classes": classes}))
    project, _ = import_folder(tmp_path / "proj", src / "images", src / "masks", src / "classes.json")
    return project, src


def test_an_rgb_project_trains_on_its_three_channels_and_predicts_rgb_and_gray(tmp_path, capsys):
    from segstudio.ml.predict import load_model, predict_image
    from segstudio.services.planning import plan_for_project

    project, src = _rgb_project(tmp_path)
    capsys.readouterr()
    assert main(["stats", str(project.root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"]["channels"] == 3
    assert plan_for_project(project, minutes=1).get("crop") <= 48  # no crop larger than the images
    out = tmp_path / "rgb.keras"
    assert main(["train", str(project.root), *TINY, "--epochs", "2", "--seed", "0", "--out", str(out)]) == 0
    model = load_model(out)
    assert model.input_shape[-1] == 3
    image = np.asarray(Image.open(src / "images" / "c0.png"))
    assert predict_image(model, image).classes.shape == (48, 48)
    assert predict_image(model, image[..., 0]).classes.shape == (48, 48)  # a gray image is repeated
    capsys.readouterr()
    assert main(["evaluate", str(out), "--images", str(src / "images"), "--masks", str(src / "masks"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["per_class_iou"]) == 3


def test_a_child_run_cancelled_before_its_process_started_stops_at_its_first_batch(tiny_project):
    """A Cancel clicked while the child is still starting is not lost: it is sent once the
    process exists, and the run ends cancelled instead of training to its end."""
    import threading

    from segstudio.services.child_tasks import train
    from segstudio.services.job_events import BatchEvent

    project, _ = tiny_project
    abort = threading.Event()
    abort.set()
    config = {"filters": 4, "depth": 2, "batch": 2, "crop": 32, "steps_per_epoch": 50, "epochs": 3}
    events = train(project.root, config, abort=abort)
    batches = []
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            result = stop.value
            break
        if isinstance(event, BatchEvent):
            batches.append(event.step)
    assert result["status"] == "cancelled", result
    assert len(batches) <= 1, batches
    assert project.run(result["run_id"]).status == "cancelled"
