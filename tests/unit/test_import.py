"""`segstudio init` on real folders: pairing, every mask format, class tables, every bad file."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from PIL import Image

from segstudio.cli import main
from segstudio.core.classes import VOC_VOID, default_color
from segstudio.core.text import counted
from segstudio.services.project_import import import_folder
from segstudio.store.project import Project
from tests.conftest import TinyFactory

SIZE = TinyFactory.SIZE  # the tiny images' width and height
_T = TinyFactory


def cli(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def run_module(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "segstudio", *map(str, args)],
        capture_output=True, text=True, timeout=60, cwd=cwd,
    )


def stats_json(capsys, project) -> dict:
    rc, out, err = cli(capsys, "stats", project, "--json")
    assert rc == 0, err
    return json.loads(out)


def _pixels(stats: dict) -> dict[int, int]:
    return {c["id"]: c["pixels"] for c in stats["classes"]}


def _bincount(masks, n) -> list[int]:
    return sum(np.bincount(m.reshape(-1), minlength=n) for m in masks).tolist()


# -- pairing ---------------------------------------------------------------------------

def test_pairing_by_stem_and_unlabelled_images(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d", n=3, n_unlabelled=2)
    # a mask in another format with the same stem pairs too; a mask without image is ignored
    (ds.masks_dir / "img01.png").unlink()
    tifffile.imwrite(ds.masks_dir / "img01.tif", ds.masks["img01"])
    Image.fromarray(_T.mask(9)).save(ds.masks_dir / "orphan.png")
    rc, out, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir,
                       "--masks", ds.masks_dir, "--classes", ds.classes_file)
    assert rc == 0, err
    assert err == ""
    assert "imported 5 images (3 with masks)" in out
    with Project.open(tmp_path / "p") as p:
        recs = {r.abs_path.stem: r for r in p.images()}
        assert set(recs) == {"img00", "img01", "img02", "unlab00", "unlab01"}
        assert recs["img01"].abs_mask_path == (ds.masks_dir / "img01.tif").resolve()
        assert recs["img01"].mask_format == "index8"
        for stem in ds.unlabelled:
            assert not recs[stem].labelled and recs[stem].status == "unlabelled"
        assert all((r.width, r.height) == (SIZE, SIZE) for r in recs.values())
        # paths inside/near the project folder are stored relative
        assert recs["img00"].path == "../d/images/img00.png"
    s = stats_json(capsys, tmp_path / "p")
    assert (s["images"], s["labelled_images"]) == (5, 3)
    assert [c["pixels"] for c in s["classes"]] == _bincount(ds.masks.values(), 4)


def test_images_only(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d", n=2)
    rc, out, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir)
    assert rc == 0, err
    s = stats_json(capsys, tmp_path / "p")
    assert (s["images"], s["labelled_images"], s["ignored_pixels"]) == (3, 0, 0)


def test_reimport_is_idempotent(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d")
    args = ("init", tmp_path / "p", "--images", ds.images_dir, "--masks", ds.masks_dir,
            "--classes", ds.classes_file)
    assert cli(capsys, *args)[0] == 0
    first = stats_json(capsys, tmp_path / "p")
    assert cli(capsys, *args)[0] == 0
    assert stats_json(capsys, tmp_path / "p") == first


def test_split_is_stable_and_has_validation(tmp_path):
    ds = _T.dataset(tmp_path / "d", n=6)
    p1, _ = import_folder(tmp_path / "p1", ds.images_dir, ds.masks_dir, ds.classes_file)
    p2, _ = import_folder(tmp_path / "p2", ds.images_dir, ds.masks_dir, ds.classes_file)
    try:
        s1 = {r.abs_path.name: r.split for r in p1.images()}
        s2 = {r.abs_path.name: r.split for r in p2.images()}
        assert s1 == s2
        assert "val" in {r.split for r in p1.images(labelled_only=True)}
    finally:
        p1.close()
        p2.close()


# -- mask formats through import -------------------------------------------------------

def test_index16_masks_without_class_table(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d", n=2, n_unlabelled=0)
    big = ds.masks["img00"].astype(np.uint16)
    big[0, :5] = 1000
    (ds.masks_dir / "img00.png").unlink()
    Image.fromarray(big).save(ds.masks_dir / "img00.png")
    tifffile.imwrite(ds.masks_dir / "img01.tif", ds.masks["img01"].astype(np.uint16))
    (ds.masks_dir / "img01.png").unlink()
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir, "--masks", ds.masks_dir)
    assert rc == 0, err
    with Project.open(tmp_path / "p") as p:
        assert {r.mask_format for r in p.images()} == {"index16"}
        table = p.class_table()
    present = sorted(set(np.unique(big)) | set(np.unique(ds.masks["img01"])))
    assert table.ids == present
    assert table.get(1000).name == "class 1000"
    assert table.get(0).name == "background"
    assert table.get(1000).color == default_color(1000)
    assert len({c.color for c in table}) == len(table)  # a distinct default palette
    s = stats_json(capsys, tmp_path / "p")
    expected = np.bincount(big.reshape(-1), minlength=1001) + np.bincount(
        ds.masks["img01"].reshape(-1), minlength=1001)
    assert _pixels(s) == {c: int(expected[c]) for c in present}


def test_palette_masks_void_becomes_ignore(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d", n=3, n_unlabelled=0)
    void_total = 0
    for k, (stem, m) in enumerate(ds.masks.items()):
        lab = m.copy()
        lab[: k + 1, :] = VOC_VOID  # k+1 void rows
        void_total += int((lab == VOC_VOID).sum())
        ds.masks[stem] = lab
        im = Image.fromarray(lab, mode="L").convert("P")
        pal = [0] * 768
        pal[3:12] = [128, 0, 0, 0, 128, 0, 128, 128, 0]
        pal[765:768] = [224, 224, 192]
        im.putpalette(pal)
        im.save(ds.masks_dir / f"{stem}.png")
    for with_table in (False, True):
        proj = tmp_path / f"p{with_table}"
        extra = ("--classes", ds.classes_file) if with_table else ()
        rc, _, err = cli(capsys, "init", proj, "--images", ds.images_dir, "--masks", ds.masks_dir, *extra)
        assert rc == 0, err
        with Project.open(proj) as p:
            assert p.class_table().ignore_ids == [VOC_VOID]
            assert {r.mask_format for r in p.images()} == {"palette"}
        s = stats_json(capsys, proj)
        assert s["ignored_pixels"] == void_total
        assert VOC_VOID not in _pixels(s)  # void is not a class
        counts = _bincount(ds.masks.values(), 256)
        assert _pixels(s) == {c: counts[c] for c in range(4)}
        assert sum(_pixels(s).values()) + void_total == 3 * SIZE * SIZE


LABELMAP = """# label:color_rgb:parts:actions
background:0,0,0::
road:128,64,128::
car:0,0,142::
tree:107,142,35::
"""


@pytest.mark.parametrize("kind", ["labelmap", "json", "csv"])
def test_rgb_colour_masks_with_class_table(tmp_path, capsys, kind):
    colors = [(0, 0, 0), (128, 64, 128), (0, 0, 142), (107, 142, 35)]
    names = ["background", "road", "car", "tree"]
    if kind == "labelmap":
        classes = tmp_path / "labelmap.txt"
        classes.write_text(LABELMAP)
    elif kind == "json":
        classes = tmp_path / "classes.json"
        classes.write_text(json.dumps([{"id": i, "name": n, "color": list(c)}
                                       for i, (n, c) in enumerate(zip(names, colors, strict=True))]))
    else:
        classes = tmp_path / "classes.csv"
        classes.write_text("id,name,color\n" + "".join(
            f"{i},{n},\"{c[0]},{c[1]},{c[2]}\"\n" for i, (n, c) in enumerate(zip(names, colors, strict=True))))
    ds = _T.dataset(tmp_path / "d", n=3, n_unlabelled=0)
    lut = np.array(colors, dtype=np.uint8)
    for stem, m in ds.masks.items():
        Image.fromarray(lut[m]).save(ds.masks_dir / f"{stem}.png")
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir,
                     "--masks", ds.masks_dir, "--classes", classes)
    assert rc == 0, err
    s = stats_json(capsys, tmp_path / "p")
    assert [c["name"] for c in s["classes"]] == names
    assert [c["color"] for c in s["classes"]] == ["#{:02x}{:02x}{:02x}".format(*c) for c in colors]
    assert [c["pixels"] for c in s["classes"]] == _bincount(ds.masks.values(), 4)
    with Project.open(tmp_path / "p") as p:
        assert {r.mask_format for r in p.images()} == {"rgb"}


# -- bad files -------------------------------------------------------------------------

def _bad_dataset(tmp_path):
    """The tiny dataset plus one file for each bad case the issue names."""
    ds = _T.dataset(tmp_path / "d", n=3, n_unlabelled=1)
    bad = {}
    # a truncated image (with a good mask)
    Image.fromarray(_T.image(50)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    bad["truncated"] = ds.images_dir / "trunc.png"
    bad["truncated"].write_bytes(data[: len(data) // 2])
    Image.fromarray(_T.mask(50)).save(ds.masks_dir / "trunc.png")
    # a truncated mask (with a good image)
    Image.fromarray(_T.image(54)).save(ds.images_dir / "truncmask.png")
    Image.fromarray(_T.mask(54)).save(tmp_path / "fullmask.png")
    data = (tmp_path / "fullmask.png").read_bytes()
    bad["truncated_mask"] = ds.masks_dir / "truncmask.png"
    bad["truncated_mask"].write_bytes(data[: len(data) // 2])
    # garbage bytes named .png
    bad["garbage"] = ds.images_dir / "garbage.png"
    bad["garbage"].write_bytes(b"GIF89a? no, just junk" * 20)
    # a mask whose size differs from its image
    Image.fromarray(_T.image(51)).save(ds.images_dir / "wrongsize.png")
    bad["size"] = ds.masks_dir / "wrongsize.png"
    Image.fromarray(np.zeros((SIZE, SIZE + 4), np.uint8)).save(bad["size"])
    # a mask value that is not in the class table (classes are 0..3)
    Image.fromarray(_T.image(52)).save(ds.images_dir / "badvalue.png")
    m = _T.mask(52)
    m[5, 5] = 9
    bad["value"] = ds.masks_dir / "badvalue.png"
    Image.fromarray(m).save(bad["value"])
    # an RGB colour not in the table
    Image.fromarray(_T.image(53)).save(ds.images_dir / "badcolour.png")
    rgb = np.zeros((SIZE, SIZE, 3), np.uint8)
    rgb[:4, :4] = (255, 0, 0)  # in the table (class 1)
    rgb[10:12, 10:12] = (1, 2, 3)  # not in the table
    bad["colour"] = ds.masks_dir / "badcolour.png"
    Image.fromarray(rgb).save(bad["colour"])
    return ds, bad


REASONS = {
    "truncated": "truncated",
    "truncated_mask": "truncated",
    "garbage": "image",
    "size": f"{SIZE + 4}x{SIZE}",
    "value": "9",
    "colour": "#010203",
}


def _check_bad_report(err: str, bad: dict) -> None:
    assert "Traceback" not in err
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    for key, path in bad.items():
        hits = [ln for ln in lines if ln.startswith(f"{path.resolve()}: ")]
        assert len(hits) == 1, (key, lines)
        assert REASONS[key] in hits[0].split(": ", 1)[1], hits[0]
    skipped_lines = [ln for ln in lines if ": " in ln and not ln.startswith("skipped")]
    assert len(skipped_lines) == len(bad), lines


def _check_good_part_imported(capsys, ds, project):
    s = stats_json(capsys, project)
    assert s["images"] == len(ds.masks) + len(ds.unlabelled)
    assert s["labelled_images"] == len(ds.masks)
    assert [c["pixels"] for c in s["classes"]] == _bincount(ds.masks.values(), 4)
    rc, out, err = cli(capsys, "stats", project)
    assert rc == 0 and "background" in out


def test_bad_files_skipped_in_process(tmp_path, capsys):
    ds, bad = _bad_dataset(tmp_path)
    rc, out, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir,
                       "--masks", ds.masks_dir, "--classes", ds.classes_file)
    assert rc != 0
    assert f"skipped {counted(len(bad), 'file')}:" in err
    _check_bad_report(err, bad)
    _check_good_part_imported(capsys, ds, tmp_path / "p")
    # the project stays usable: index and weights work too
    assert cli(capsys, "index", tmp_path / "p")[0] == 0
    rc, out, _ = cli(capsys, "weights", tmp_path / "p", "--scheme", "balanced", "--json")
    assert rc == 0 and len(json.loads(out)["weights"]) == 4


def test_bad_files_skipped_console_entry(tmp_path, capsys):
    ds, bad = _bad_dataset(tmp_path)
    r = run_module("init", tmp_path / "p", "--images", ds.images_dir, "--masks", ds.masks_dir,
                   "--classes", ds.classes_file)
    assert r.returncode != 0
    _check_bad_report(r.stderr, bad)
    assert "imported 4 images (3 with masks)" in r.stdout
    r2 = run_module("stats", tmp_path / "p", "--json")
    assert r2.returncode == 0, r2.stderr
    assert json.loads(r2.stdout)["labelled_images"] == 3


def test_each_bad_case_alone_sets_exit_status(tmp_path, capsys):
    for key in ("truncated", "truncated_mask", "size", "value", "colour"):
        ds, bad = _bad_dataset(tmp_path / key)
        keep = bad[key]
        for other, path in bad.items():
            if other != key:
                path.unlink()
                sibling = (ds.images_dir if path.parent == ds.masks_dir else ds.masks_dir) / path.name
                sibling.unlink(missing_ok=True)
        rc, _, err = cli(capsys, "init", tmp_path / key / "p", "--images", ds.images_dir,
                         "--masks", ds.masks_dir, "--classes", ds.classes_file)
        assert rc == 1, (key, err)
        _check_bad_report(err, {key: keep})
        _check_good_part_imported(capsys, ds, tmp_path / key / "p")


def test_rgb_mask_without_class_table_is_skipped_with_reason(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d", n=2, n_unlabelled=0)
    lut = np.array([(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)], np.uint8)
    Image.fromarray(lut[ds.masks["img01"]]).save(ds.masks_dir / "img01.png")
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir, "--masks", ds.masks_dir)
    assert rc == 1
    line = [ln for ln in err.splitlines() if "img01.png" in ln]
    assert len(line) == 1 and "class table" in line[0]
    with Project.open(tmp_path / "p") as p:
        assert [r.abs_path.stem for r in p.images()] == ["img00"]


def test_value_check_without_class_table_accepts_everything(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d", n=2, n_unlabelled=0)
    m = ds.masks["img00"].copy()
    m[0, 0] = 9
    Image.fromarray(m).save(ds.masks_dir / "img00.png")
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir, "--masks", ds.masks_dir)
    assert rc == 0, err
    assert 9 in _pixels(stats_json(capsys, tmp_path / "p"))


# -- errors that stop everything -------------------------------------------------------

def test_malformed_class_table_is_one_line_and_creates_nothing(tmp_path, capsys):
    ds = _T.dataset(tmp_path / "d", n=1)
    bad = tmp_path / "labelmap.txt"
    bad.write_text("# label:color_rgb:parts:actions\nbackground:0,0::\n")
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir,
                     "--masks", ds.masks_dir, "--classes", bad)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and str(bad) in err
    assert not (tmp_path / "p").exists()


def test_missing_folders(tmp_path, capsys):
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", tmp_path / "nope")
    assert rc == 2 and "images folder not found" in err and "Traceback" not in err
    (tmp_path / "imgs").mkdir()
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", tmp_path / "imgs", "--masks", tmp_path / "nope")
    assert rc == 2 and "masks folder not found" in err


def test_console_entry_error_has_no_traceback(tmp_path):
    r = run_module("stats", tmp_path / "no_project_here")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_oversized_image_header_is_skipped_not_a_crash(tmp_path, capsys):
    import struct
    import zlib

    ds = _T.dataset(tmp_path / "d", n=2, n_unlabelled=0)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    bomb = ds.images_dir / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 70000, 70000, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir, "--masks", ds.masks_dir)
    assert rc == 1
    assert "Traceback" not in err
    assert [ln.strip().split(": ")[0] for ln in err.splitlines()[1:]] == [str(bomb.resolve())]
    assert stats_json(capsys, tmp_path / "p")["labelled_images"] == 2


def test_labelmap_void_colour_is_ignored(tmp_path, capsys):
    labelmap = tmp_path / "labelmap.txt"
    labelmap.write_text(LABELMAP + "void:224,224,192::\n")
    ds = _T.dataset(tmp_path / "d", n=2, n_unlabelled=0)
    lut = np.array([(0, 0, 0), (128, 64, 128), (0, 0, 142), (107, 142, 35), (224, 224, 192)], np.uint8)
    masks = []
    for stem, m in ds.masks.items():
        m = m.copy()
        m[-2:] = 4  # two void rows
        masks.append(m)
        Image.fromarray(lut[m]).save(ds.masks_dir / f"{stem}.png")
    rc, _, err = cli(capsys, "init", tmp_path / "p", "--images", ds.images_dir,
                     "--masks", ds.masks_dir, "--classes", labelmap)
    assert rc == 0, err
    s = stats_json(capsys, tmp_path / "p")
    assert s["ignored_pixels"] == 2 * 2 * SIZE
    assert [c["name"] for c in s["classes"]] == ["background", "road", "car", "tree"]
    assert [c["pixels"] for c in s["classes"]] == _bincount(masks, 5)[:4]
