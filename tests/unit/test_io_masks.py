"""io.masks and core.classes on real files: every mask format, atomic writes, class tables."""

from __future__ import annotations

import json
import os
import stat
import sys

import numpy as np
import pytest
import tifffile
from PIL import Image

from segstudio.core import atomic
from segstudio.core.classes import VOC_VOID, ClassInfo, ClassTable, load_class_table
from segstudio.core.errors import BadFileError
from segstudio.core.stats import count_classes
from segstudio.io.masks import MaskFormat, decode_mask, read_mask, write_mask

H, W = 20, 28

TABLE = ClassTable(
    [
        ClassInfo(0, "background", (0, 0, 0)),
        ClassInfo(1, "red", (255, 0, 0)),
        ClassInfo(2, "green", (0, 255, 0)),
        ClassInfo(3, "blue", (0, 0, 255)),
    ]
)


def _labels(max_id: int = 3, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lab = np.zeros((H, W), dtype=dtype)
    lab[2:8, 3:12] = 1
    lab[10:15, 5:9] = min(2, max_id)
    lab[rng.integers(0, H, 10), rng.integers(0, W, 10)] = max_id
    return lab


def _rgb_of(labels: np.ndarray, table: ClassTable = TABLE) -> np.ndarray:
    lut = np.zeros((int(labels.max()) + 1, 3), dtype=np.uint8)
    for c in table:
        if c.id < lut.shape[0]:
            lut[c.id] = c.color
    return lut[labels]


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith("."))


# -- decoding each format --------------------------------------------------------------

@pytest.fixture(params=["default", "pillow-only"])
def decoder(request, monkeypatch):
    """Run a test with the default decoders and again with optional accelerators
    (imagecodecs) hidden, so both code paths read the same files the same way."""
    if request.param == "pillow-only":
        monkeypatch.setitem(sys.modules, "imagecodecs", None)
    return request.param


def test_index8_png(tmp_path, decoder):
    lab = _labels()
    Image.fromarray(lab).save(tmp_path / "m.png")
    m = decode_mask(tmp_path / "m.png")
    assert m.format is MaskFormat.INDEX8
    assert m.size == (W, H)
    assert m.labels.dtype == np.uint8
    np.testing.assert_array_equal(m.labels, lab)


def test_index16_png(tmp_path, decoder):
    lab = _labels(max_id=1000, dtype=np.uint16)
    Image.fromarray(lab).save(tmp_path / "m.png")
    m = decode_mask(tmp_path / "m.png")
    assert m.format is MaskFormat.INDEX16
    assert m.labels.dtype == np.uint16
    np.testing.assert_array_equal(m.labels, lab)


@pytest.mark.parametrize("dtype, fmt", [(np.uint8, MaskFormat.INDEX8), (np.uint16, MaskFormat.INDEX16)])
def test_index_tiff(tmp_path, dtype, fmt, decoder):
    lab = _labels(max_id=255 if dtype == np.uint8 else 40000, dtype=dtype)
    tifffile.imwrite(tmp_path / "m.tif", lab, compression="zlib")
    m = decode_mask(tmp_path / "m.tif")
    assert m.format is fmt
    np.testing.assert_array_equal(m.labels, lab)


def test_bilevel_and_gray_alpha_masks(tmp_path, decoder):
    lab = (_labels() > 0).astype(np.uint8)
    Image.fromarray(lab.astype(bool)).save(tmp_path / "bit.png")
    m = decode_mask(tmp_path / "bit.png")
    assert m.format is MaskFormat.INDEX8
    np.testing.assert_array_equal(m.labels, lab)
    lab = _labels()
    Image.fromarray(np.dstack([lab, np.full((H, W), 255, np.uint8)]), mode="LA").save(tmp_path / "la.png")
    m = decode_mask(tmp_path / "la.png")
    assert m.format is MaskFormat.INDEX8
    np.testing.assert_array_equal(m.labels, lab)
    tifffile.imwrite(tmp_path / "la.tif", np.dstack([lab, lab]), photometric="minisblack",
                     extrasamples=["unassalpha"])
    np.testing.assert_array_equal(decode_mask(tmp_path / "la.tif").labels, lab)


def test_palette_png_with_void(tmp_path):
    lab = _labels()
    lab[0, :] = VOC_VOID  # a VOC-style void border row
    im = Image.fromarray(lab, mode="L").convert("P")
    pal = [0] * 768
    pal[3:12] = [128, 0, 0, 0, 128, 0, 128, 128, 0]
    pal[3 * 255 : 3 * 256] = [224, 224, 192]
    im.putpalette(pal)
    im.save(tmp_path / "voc.png")
    m = decode_mask(tmp_path / "voc.png")
    assert m.format is MaskFormat.PALETTE
    np.testing.assert_array_equal(m.labels, lab)  # the index is the class, not the colour
    assert m.palette is not None and m.palette[3 * 255 : 3 * 256] == [224, 224, 192]

    # void pixels are counted as ignored, not as a class
    mc = count_classes(m.labels, 4, ignore_ids=(VOC_VOID,))
    assert mc.ignored == W
    assert mc.pixels.tolist() == np.bincount(lab[lab != 255], minlength=4).tolist()


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_rgb_colour_mask_with_table(tmp_path, mode):
    lab = _labels()
    rgb = _rgb_of(lab)
    if mode == "RGBA":
        rgb = np.dstack([rgb, np.full((H, W), 255, np.uint8)])
    Image.fromarray(rgb, mode=mode).save(tmp_path / "c.png")
    m = decode_mask(tmp_path / "c.png", TABLE)
    assert m.format is MaskFormat.RGB
    np.testing.assert_array_equal(m.labels, lab)


def test_rgb_colour_tiff_with_table(tmp_path):
    lab = _labels()
    tifffile.imwrite(tmp_path / "c.tif", _rgb_of(lab), photometric="rgb")
    m = decode_mask(tmp_path / "c.tif", TABLE)
    assert m.format is MaskFormat.RGB
    np.testing.assert_array_equal(m.labels, lab)


def test_rgb_colour_mask_without_table_is_a_clear_error(tmp_path):
    Image.fromarray(_rgb_of(_labels())).save(tmp_path / "c.png")
    with pytest.raises(BadFileError) as err:
        decode_mask(tmp_path / "c.png")
    assert err.value.path == tmp_path / "c.png"
    assert "class table" in err.value.problem


def test_rgb_colour_not_in_table(tmp_path):
    rgb = _rgb_of(_labels())
    rgb[0, 0] = (12, 34, 56)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    with pytest.raises(BadFileError) as err:
        decode_mask(tmp_path / "c.png", TABLE)
    assert "#0c2238" in err.value.problem
    assert str(tmp_path / "c.png") in str(err.value)


def test_gray_saved_as_rgb_is_an_index_mask(tmp_path, decoder):
    lab = _labels()
    Image.fromarray(np.dstack([lab] * 3)).save(tmp_path / "g.png")
    for table in (None, TABLE):  # TABLE has only one gray colour (black): still an index mask
        m = decode_mask(tmp_path / "g.png", table)
        assert m.format is MaskFormat.INDEX8
        np.testing.assert_array_equal(m.labels, lab)


def test_black_white_rgb_with_black_white_table_is_a_colour_mask(tmp_path):
    table = ClassTable([ClassInfo(0, "bg", (0, 0, 0)), ClassInfo(1, "fg", (255, 255, 255))])
    lab = (_labels() > 0).astype(np.uint8)
    Image.fromarray(np.dstack([lab * 255] * 3)).save(tmp_path / "bw.png")
    m = decode_mask(tmp_path / "bw.png", table)
    assert m.format is MaskFormat.RGB
    np.testing.assert_array_equal(m.labels, lab)


def test_read_mask_checks_size_and_labels(tmp_path, decoder):
    lab = _labels()
    Image.fromarray(lab).save(tmp_path / "m.png")
    assert read_mask(tmp_path / "m.png", TABLE, expected_size=(W, H)).size == (W, H)
    with pytest.raises(BadFileError) as err:
        read_mask(tmp_path / "m.png", TABLE, expected_size=(W + 1, H))
    assert f"{W}x{H}" in err.value.problem and f"{W + 1}x{H}" in err.value.problem
    lab[0, 0] = 7
    Image.fromarray(lab).save(tmp_path / "m7.png")
    with pytest.raises(BadFileError) as err:
        read_mask(tmp_path / "m7.png", TABLE)
    assert "7" in err.value.problem
    assert err.value.path == tmp_path / "m7.png"


@pytest.mark.parametrize("name", ["missing.png", "missing.tif"])
def test_missing_mask(tmp_path, name, decoder):
    with pytest.raises(BadFileError) as err:
        decode_mask(tmp_path / name)
    assert err.value.path == tmp_path / name


def test_truncated_and_garbage_masks(tmp_path, decoder):
    Image.fromarray(_labels()).save(tmp_path / "good.png")
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.png").write_bytes(b"\x00junk" * 50)
    (tmp_path / "junk.tif").write_bytes(b"\x00junk" * 50)
    for name in ("trunc.png", "junk.png", "junk.tif"):
        with pytest.raises(BadFileError) as err:
            decode_mask(tmp_path / name)
        assert err.value.path == tmp_path / name


# -- writing: round trips -------------------------------------------------------------

@pytest.mark.parametrize(
    "name, fmt, max_id, dtype",
    [
        ("m.png", MaskFormat.INDEX8, 3, np.uint8),
        ("m.tif", MaskFormat.INDEX8, 200, np.uint8),
        ("m.bmp", MaskFormat.INDEX8, 3, np.uint8),
        ("m.png", MaskFormat.INDEX16, 3000, np.uint16),
        ("m.tif", MaskFormat.INDEX16, 3000, np.uint16),
        ("m.tiff", MaskFormat.INDEX16, 65535, np.uint16),
        ("m.png", MaskFormat.PALETTE, 3, np.uint8),
        ("m.png", MaskFormat.RGB, 3, np.uint8),
        ("m.tif", MaskFormat.RGB, 3, np.uint8),
    ],
)
def test_write_mask_round_trip(tmp_path, name, fmt, max_id, dtype, decoder):
    lab = _labels(max_id=max_id, dtype=dtype)
    path = tmp_path / name
    write_mask(path, lab, fmt, table=TABLE)
    m = decode_mask(path, TABLE)
    assert m.format is fmt
    np.testing.assert_array_equal(m.labels, lab)
    assert _leftovers(tmp_path) == []


def test_write_palette_keeps_the_palette(tmp_path):
    lab = _labels()
    pal = list(range(256)) * 3
    write_mask(tmp_path / "p.png", lab, MaskFormat.PALETTE, palette=pal)
    m = decode_mask(tmp_path / "p.png")
    assert m.format is MaskFormat.PALETTE
    assert m.palette[: 3 * 4] == pal[: 3 * 4]
    # rewriting with the palette read back keeps it unchanged
    write_mask(tmp_path / "p.png", m.labels, m.format, palette=m.palette)
    assert decode_mask(tmp_path / "p.png").palette == m.palette


def test_write_palette_void_survives(tmp_path):
    lab = _labels()
    lab[-1] = VOC_VOID
    write_mask(tmp_path / "v.png", lab, MaskFormat.PALETTE, table=TABLE)
    m = decode_mask(tmp_path / "v.png")
    np.testing.assert_array_equal(m.labels, lab)
    assert m.palette[3 * 255 : 3 * 256] == [224, 224, 192]
    assert m.palette[3:6] == [255, 0, 0]


def test_write_index8_widens_for_large_ids(tmp_path):
    lab = _labels(max_id=300, dtype=np.uint16)
    write_mask(tmp_path / "w.png", lab, MaskFormat.INDEX8)
    m = decode_mask(tmp_path / "w.png")
    assert m.format is MaskFormat.INDEX16
    np.testing.assert_array_equal(m.labels, lab)


def test_write_rgb_needs_table(tmp_path):
    target = tmp_path / "c.png"
    with pytest.raises(ValueError):
        write_mask(target, _labels(), MaskFormat.RGB)
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_write_rejects_non_2d(tmp_path):
    with pytest.raises(ValueError):
        write_mask(tmp_path / "x.png", np.zeros((2, 2, 3), np.uint8))


# -- atomicity -----------------------------------------------------------------------

class Crash(Exception):
    pass


def _crash_after_partial_write(self, fp, *args, **kwargs):
    with open(fp, "wb") as f:
        f.write(b"\x89PNG half a file")
    raise Crash("power cut")


@pytest.mark.parametrize("fmt", [MaskFormat.INDEX8, MaskFormat.INDEX16, MaskFormat.PALETTE, MaskFormat.RGB])
def test_write_mask_crash_leaves_old_file_intact(tmp_path, monkeypatch, fmt):
    target = tmp_path / "mask.png"
    old = _labels()
    write_mask(target, old, MaskFormat.INDEX8)
    before = target.read_bytes()
    monkeypatch.setattr(Image.Image, "save", _crash_after_partial_write)
    with pytest.raises(Crash):
        write_mask(target, np.full((H, W), 2, np.uint8), fmt, table=TABLE)
    monkeypatch.undo()
    assert target.read_bytes() == before
    np.testing.assert_array_equal(decode_mask(target).labels, old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]


def test_write_tiff_crash_leaves_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "mask.tif"
    write_mask(target, _labels(), MaskFormat.INDEX16)
    before = target.read_bytes()

    def crash(path, *a, **k):
        with open(path, "wb") as f:
            f.write(b"II*\x00partial")
        raise Crash("disk full")

    monkeypatch.setattr(tifffile, "imwrite", crash)
    with pytest.raises(Crash):
        write_mask(target, np.ones((H, W), np.uint16), MaskFormat.INDEX16)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.tif"]


def test_crash_on_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(Image.Image, "save", _crash_after_partial_write)
    with pytest.raises(Crash):
        write_mask(tmp_path / "new.png", _labels())
    assert list(tmp_path.iterdir()) == []


def test_crash_in_os_replace_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "mask.png"
    write_mask(target, _labels())
    before = target.read_bytes()

    def boom(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError):
        write_mask(target, np.zeros((H, W), np.uint8))
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]


def test_write_text_atomic_interrupt(tmp_path):
    target = tmp_path / "t.txt"
    atomic.write_text_atomic(target, "old")

    def writer(p):
        p.write_text("new, half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, writer)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_atomic_write_keeps_normal_permissions(tmp_path):
    """A saved mask is readable by the group/others like any file (not mkstemp's 0600),
    and overwriting keeps the old file's mode."""
    umask = os.umask(0o022)
    try:
        target = tmp_path / "m.png"
        write_mask(target, _labels())
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        os.chmod(target, 0o664)
        write_mask(target, _labels(seed=3))
        assert stat.S_IMODE(target.stat().st_mode) == 0o664
    finally:
        os.umask(umask)


# -- class tables ---------------------------------------------------------------------

LABELMAP = """# label:color_rgb:parts:actions
background:0,0,0::
car:250,50,83::
person:51,221,255:arm,leg:
void:224,224,192::
"""


def test_cvat_labelmap(tmp_path):
    p = tmp_path / "labelmap.txt"
    p.write_text(LABELMAP)
    t = load_class_table(p)
    assert t.ids == [0, 1, 2, 3]
    assert [c.name for c in t] == ["background", "car", "person", "void"]
    assert t.get(1).color == (250, 50, 83)
    assert t.get(2).hex == "#33ddff"
    assert t.ignore_ids == [3]


def test_cvat_labelmap_with_bom_and_crlf(tmp_path):
    p = tmp_path / "labelmap.txt"
    p.write_bytes(("\ufeff" + LABELMAP).replace("\n", "\r\n").encode("utf-8"))
    assert [c.name for c in load_class_table(p)] == ["background", "car", "person", "void"]


@pytest.mark.parametrize(
    "payload",
    [
        [{"id": 0, "name": "bg", "color": "#000000"}, {"id": 5, "name": "cell", "color": [10, 20, 30]}],
        {"classes": [{"id": 0, "name": "bg", "color": "0,0,0"}, {"id": 5, "name": "cell", "colour": "#0a141e"}]},
    ],
)
def test_json_class_table(tmp_path, payload):
    p = tmp_path / "classes.json"
    p.write_text(json.dumps(payload))
    t = load_class_table(p)
    assert t.ids == [0, 5]
    assert t.get(5).color == (10, 20, 30)
    assert t.get(5).name == "cell"
    assert t.num_classes == 6


def test_csv_class_table(tmp_path):
    p = tmp_path / "classes.csv"
    p.write_text("id,name,color,ignore\n0,background,#000000,\n1,tumour,255 0 0,\n255,void,\"224,224,192\",true\n")
    t = load_class_table(p)
    assert t.ids == [0, 1, 255]
    assert t.get(1).color == (255, 0, 0)
    assert t.get(255).ignore and not t.get(1).ignore
    assert t.ignore_ids == [255]


@pytest.mark.parametrize(
    "name, text",
    [
        ("labelmap.txt", "# label:color_rgb:parts:actions\n"),
        ("labelmap.txt", ""),
        ("labelmap.txt", "background 0 0 0\n"),
        ("labelmap.txt", "background:0,0::\n"),
        ("labelmap.txt", "background:0,0,300::\n"),
        ("labelmap.txt", "background:red::\n"),
        ("classes.json", "{not json"),
        ("classes.json", "42"),
        ("classes.json", "[]"),
        ("classes.json", "[1, 2, 3]"),
        ("classes.json", '["background", "car"]'),
        ("classes.json", '[{"id": 0, "name": "bg", "color": [1, 2]}]'),
        ("classes.json", '[{"id": 0, "name": "bg", "color": [300, 0, 0]}]'),
        ("classes.json", '[{"id": 0, "name": "bg", "color": "#00000"}]'),
        ("classes.json", '[{"id": "zero", "name": "bg"}]'),
        ("classes.json", '[{"id": 0, "name": "a"}, {"id": 0, "name": "b"}]'),
        ("classes.json", '[{"id": 70000, "name": "a"}]'),
        ("classes.csv", "name,color\nbg,#000000\n"),
        ("classes.csv", "id,name,color\nx,bg,#000000\n"),
        ("classes.csv", "id,name,color\n0,bg,#00\n"),
        ("classes.csv", ""),
    ],
)
def test_malformed_class_tables(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(BadFileError) as err:
        load_class_table(p)
    assert err.value.path == p
    assert str(p) in str(err.value)


def test_missing_and_binary_class_table(tmp_path):
    with pytest.raises(BadFileError):
        load_class_table(tmp_path / "nope.txt")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(BadFileError):
        load_class_table(tmp_path / "bin.json")


def test_truncated_16bit_and_oversized_masks(tmp_path, decoder):
    import struct
    import zlib

    Image.fromarray(_labels(max_id=3000, dtype=np.uint16)).save(tmp_path / "good16.png")
    data = (tmp_path / "good16.png").read_bytes()
    (tmp_path / "trunc16.png").write_bytes(data[: len(data) * 2 // 3])

    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    (tmp_path / "huge.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 70000, 70000, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )
    for name in ("trunc16.png", "huge.png"):
        with pytest.raises(BadFileError) as err:
            decode_mask(tmp_path / name)
        assert err.value.path == tmp_path / name
    # refused up front by the decompression-bomb guard, before any decoder allocates 4.9 GB
    assert "too large" in err.value.problem


def test_all_background_colour_mask_stays_a_colour_mask_when_saved(tmp_path):
    """An empty RGB mask (all black = background) must be written back as RGB, not gray."""
    table = ClassTable([ClassInfo(0, "background", (0, 0, 0)), ClassInfo(1, "road", (128, 64, 128))])
    path = tmp_path / "empty.png"
    Image.fromarray(np.zeros((8, 10, 3), np.uint8)).save(path)
    decoded = decode_mask(path, table)
    assert decoded.format is MaskFormat.RGB
    labels = decoded.labels.copy()
    labels[2:4, 2:4] = 1
    write_mask(path, labels, decoded.format, table)
    with Image.open(path) as im:
        assert im.mode == "RGB"
        assert im.getpixel((2, 2)) == (128, 64, 128)
    assert (read_mask(path, table).labels == labels).all()
