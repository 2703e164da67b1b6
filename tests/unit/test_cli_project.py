"""`segstudio stats|weights|demo` on real projects, checked against numpy counts of the files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from segstudio.cli import main
from segstudio.core.demo import NUM_CLASSES
from segstudio.core.weights import SCHEMES, class_weights
from segstudio.io.masks import decode_mask


def cli(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def _file_counts(masks_dir, num_classes):
    """(pixels per class, images per class, pixels of the images containing each class)
    computed straight from the mask files with numpy."""
    pixels = np.zeros(num_classes, np.int64)
    images = np.zeros(num_classes, np.int64)
    area = np.zeros(num_classes, np.int64)
    for path in sorted(masks_dir.iterdir()):
        lab = np.asarray(Image.open(path))
        bc = np.bincount(lab.reshape(-1), minlength=num_classes)
        pixels += bc
        images += bc > 0
        area += (bc > 0) * lab.size
    return pixels, images, area


# -- stats ----------------------------------------------------------------------------

def test_stats_json_exact_shape_and_values(tiny_project, tiny_dataset, capsys):
    rc, out, err = cli(capsys, "stats", tiny_project.root, "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert list(data) == ["images", "labelled_images", "ignored_pixels", "classes", "fingerprint"]
    assert data["images"] == 5 and data["labelled_images"] == 4 and data["ignored_pixels"] == 0
    pixels, images, _ = _file_counts(tiny_dataset.masks_dir, 4)
    assert data["classes"] == [
        {"id": i, "name": name, "color": color, "pixels": int(pixels[i]), "images": int(images[i])}
        for i, (name, color) in enumerate(zip(tiny_dataset.class_names, ["#000000", "#ff0000",
                                                                         "#00ff00", "#0000ff"],
                                              strict=True))
    ]
    for c in data["classes"]:
        assert list(c) == ["id", "name", "color", "pixels", "images"]
        assert all(type(c[k]) is int for k in ("id", "pixels", "images"))


def test_stats_split_and_table(tiny_project, tiny_dataset, capsys):
    rc, out, _ = cli(capsys, "stats", tiny_project.root)
    assert rc == 0
    assert "5 images, 4 labelled, 0 ignored pixels" in out
    for name in tiny_dataset.class_names:
        assert name in out
    val = [r for r in tiny_project.images(labelled_only=True) if r.split == "val"]
    rc, out, _ = cli(capsys, "stats", tiny_project.root, "--split", "val", "--json")
    data = json.loads(out)
    assert data["labelled_images"] == len(val) >= 1
    expected = sum(np.bincount(decode_mask(r.abs_mask_path).labels.reshape(-1), minlength=4) for r in val)
    assert [c["pixels"] for c in data["classes"]] == expected.tolist()


def test_stats_empty_project(empty_project, capsys):
    rc, out, _ = cli(capsys, "stats", empty_project.root, "--json")
    assert rc == 0
    data = json.loads(out)
    assert data.pop("fingerprint")["images"] == 0
    assert data == {"images": 0, "labelled_images": 0, "ignored_pixels": 0, "classes": []}
    assert cli(capsys, "stats", empty_project.root)[0] == 0


def test_stats_on_missing_project_is_one_line(tmp_path, capsys):
    rc, out, err = cli(capsys, "stats", tmp_path / "nothing")
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "not found" in err


# -- weights --------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_weights_json_equals_class_weights_on_numpy_counts(tiny_project, tiny_dataset, capsys, scheme):
    rc, out, err = cli(capsys, "weights", tiny_project.root, "--scheme", scheme, "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert list(data) == ["scheme", "weights"]
    assert data["scheme"] == scheme
    pixels, images, area = _file_counts(tiny_dataset.masks_dir, 4)
    expected = class_weights(pixels, scheme, image_counts=images, pixels_of_images_with_class=area)
    assert len(data["weights"]) == 4
    np.testing.assert_allclose(data["weights"], expected, rtol=1e-12)
    assert all(isinstance(w, float) for w in data["weights"])


def test_weights_balanced_by_hand(tmp_path, tiny, capsys):
    """Two 32x32 masks: 1000 background + 24 class-1 pixels, and 1024 background."""
    ds = tiny.dataset(tmp_path / "d", n=2, n_unlabelled=0)
    a = np.zeros((32, 32), np.uint8)
    a[:4, :6] = 1
    Image.fromarray(a).save(ds.masks_dir / "img00.png")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(ds.masks_dir / "img01.png")
    assert cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir, "--masks", ds.masks_dir)[0] == 0
    rc, out, _ = cli(capsys, "weights", tmp_path / "p", "--scheme", "balanced", "--json")
    n0, n1 = 2048 - 24, 24
    assert json.loads(out)["weights"] == pytest.approx([2048 / (2 * n0), 2048 / (2 * n1)])
    rc, out, _ = cli(capsys, "weights", tmp_path / "p", "--scheme", "median", "--json")
    f0, f1 = n0 / 2048, n1 / 1024
    med = (f0 + f1) / 2
    assert json.loads(out)["weights"] == pytest.approx([med / f0, med / f1])


@pytest.mark.parametrize("scheme", ["balanced", "median", "sqrt"])
def test_weights_clip(tiny_project, tiny_dataset, capsys, scheme):
    pixels, images, area = _file_counts(tiny_dataset.masks_dir, 4)
    raw = class_weights(pixels, scheme, image_counts=images, pixels_of_images_with_class=area)
    rc, out, _ = cli(capsys, "weights", tiny_project.root, "--scheme", scheme, "--clip", "2", "--json")
    assert rc == 0
    w = np.array(json.loads(out)["weights"])
    np.testing.assert_allclose(w, np.minimum(raw, 2 * raw[raw > 0].min()), rtol=1e-12)
    np.testing.assert_allclose(
        w, class_weights(pixels, scheme, image_counts=images, pixels_of_images_with_class=area, clip=2),
        rtol=1e-12,
    )
    assert w.max() <= 2 * w[w > 0].min() * (1 + 1e-12)


@pytest.mark.parametrize("bad", ["0.5", "0", "-3", "nan", "x"])
def test_weights_bad_clip_is_a_usage_error(tiny_project, capsys, bad):
    with pytest.raises(SystemExit) as exc:
        main(["weights", str(tiny_project.root), "--scheme", "median", "--clip", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--clip" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["0", "1", "1.5", "-0.1"])
def test_weights_bad_beta_is_a_usage_error(tiny_project, capsys, bad):
    with pytest.raises(SystemExit) as exc:
        main(["weights", str(tiny_project.root), "--scheme", "effective", "--beta", bad])
    assert exc.value.code == 2
    assert "--beta" in capsys.readouterr().err


def test_weights_table_output(tiny_project, capsys):
    rc, out, _ = cli(capsys, "weights", tiny_project.root, "--scheme", "enet", "--clip", "3")
    assert rc == 0
    assert "scheme enet" in out and "clipped at 3 x" in out
    assert "background" in out and "blue" in out


def test_weights_unknown_scheme(tiny_project, capsys):
    with pytest.raises(SystemExit):
        main(["weights", str(tiny_project.root), "--scheme", "magic"])


# -- demo -----------------------------------------------------------------------------

def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("segstudio.db")
    }


def test_demo_is_deterministic_and_imbalanced(tmp_path, capsys):
    rc, out, err = cli(capsys, "demo", tmp_path / "a", "--n", "20", "--seed", "1")
    assert rc == 0, err
    # the second run goes through the real console entry
    r = subprocess.run([sys.executable, "-m", "segstudio", "demo", str(tmp_path / "b"),
                        "--n", "20", "--seed", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len([k for k in a if k.startswith("images/")]) == 20
    assert len([k for k in a if k.startswith("masks/")]) == 20
    assert a == b  # same bytes, file by file

    rc, out, _ = cli(capsys, "stats", tmp_path / "a", "--json")
    data = json.loads(out)
    assert data["images"] == data["labelled_images"] == 20
    assert len(data["classes"]) == NUM_CLASSES == 32
    assert [c["id"] for c in data["classes"]] == list(range(32))
    pixels, _, _ = _file_counts(tmp_path / "a" / "masks", 32)
    assert [c["pixels"] for c in data["classes"]] == pixels.tolist()
    share = pixels[0] / pixels.sum()
    assert 0.97 <= share <= 0.997, share
    assert sum(1 for c in data["classes"][1:] if c["pixels"] > 0) >= 10  # many rare classes present
    img = np.asarray(Image.open(tmp_path / "a" / "images" / "demo_0000.png"))
    assert img.shape == (256, 256) and img.dtype == np.uint8

    cli(capsys, "demo", tmp_path / "c", "--n", "3", "--seed", "2", "--size", "64")
    assert _files(tmp_path / "c")["masks/demo_0000.png"] != a["masks/demo_0000.png"]


# -- launcher -------------------------------------------------------------------------

def test_launcher_without_display_points_at_headless_commands(tmp_path):
    import os

    if sys.platform in ("win32", "darwin"):
        pytest.skip("a display is assumed on this platform")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "-m", "segstudio"], capture_output=True, text=True,
                       timeout=60, env=env, cwd=tmp_path)
    assert r.returncode == 3
    assert "no display" in r.stderr and "segstudio stats" in r.stderr
    assert "Traceback" not in r.stderr


def test_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "init", "index", "stats", "weights"):
        assert command in out
    assert main(["--version"]) == 0
    assert "segstudio" in capsys.readouterr().out.lower()
