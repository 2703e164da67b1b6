"""io.images on real files: every format users bring, and every way a file can be bad."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image

from segstudio.core.errors import BadFileError
from segstudio.io.images import image_size, is_image_file, read_image

H, W = 24, 32  # not square, so a transposed read shows up


def _ramp(dtype, channels: int | None = None) -> np.ndarray:
    top = 255 if dtype == np.uint8 else 65535
    n = H * W * (channels or 1)
    arr = (np.arange(n, dtype=np.int64) * 7919 % (top + 1)).astype(dtype)
    return arr.reshape((H, W) if channels is None else (H, W, channels))


def _png_rgb16(path, arr: np.ndarray) -> None:
    """A 48-bit RGB PNG (Pillow cannot write one)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# -- lossless formats: exact pixels back ------------------------------------------------

@pytest.mark.parametrize(
    "suffix, dtype, channels",
    [
        (".png", np.uint8, None),
        (".png", np.uint16, None),
        (".png", np.uint8, 3),
        (".png", np.uint8, 4),
        (".bmp", np.uint8, None),
        (".bmp", np.uint8, 3),
        (".bmp", np.uint8, 4),
        (".tif", np.uint8, None),
        (".tif", np.uint16, None),
        (".tiff", np.uint8, 3),
        (".tif", np.uint16, 3),
        (".tif", np.uint8, 4),
        (".tif", np.uint16, 4),
    ],
)
def test_lossless_formats_round_trip(tmp_path, suffix, dtype, channels):
    arr = _ramp(dtype, channels)
    path = tmp_path / f"im{suffix}"
    if suffix in (".tif", ".tiff"):
        tifffile.imwrite(path, arr, photometric="minisblack" if channels is None else "rgb")
    else:
        Image.fromarray(arr).save(path)
    out = read_image(path)
    expected = arr[..., :3] if channels == 4 else arr  # alpha carries no class information
    assert out.dtype == dtype
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    assert image_size(path) == (W, H)
    assert is_image_file(path)


def test_png_rgb_16bit(tmp_path):
    arr = _ramp(np.uint16, 3)
    path = tmp_path / "rgb16.png"
    _png_rgb16(path, arr)
    out = read_image(path)
    assert out.shape == (H, W, 3)
    assert out.dtype in (np.uint8, np.uint16)
    if out.dtype == np.uint8:  # Pillow reduces 48-bit PNGs to 8 bits per channel
        np.testing.assert_array_equal(out, (arr >> 8).astype(np.uint8))
    else:
        np.testing.assert_array_equal(out, arr)
    assert image_size(path) == (W, H)


@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("suffix", [".jpg", ".jpeg"])
def test_jpeg_gray_and_rgb(tmp_path, suffix, channels):
    # smooth content so JPEG's loss stays small
    yy, xx = np.mgrid[0:H, 0:W]
    gray = (yy * 4 + xx * 3).astype(np.uint8)
    arr = gray if channels is None else np.stack([gray, 255 - gray, gray // 2], axis=-1)
    path = tmp_path / f"im{suffix}"
    Image.fromarray(arr).save(path, quality=95)
    out = read_image(path)
    assert out.dtype == np.uint8
    assert out.shape == arr.shape
    assert np.abs(out.astype(int) - arr.astype(int)).mean() < 3
    assert image_size(path) == (W, H)


def test_gray_with_alpha(tmp_path):
    gray = _ramp(np.uint8)
    alpha = np.full((H, W), 200, np.uint8)
    Image.fromarray(np.dstack([gray, alpha]), mode="LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png"), gray)
    g16 = _ramp(np.uint16)
    tifffile.imwrite(tmp_path / "ga.tif", np.dstack([g16, g16 // 2]), photometric="minisblack",
                     extrasamples=["unassalpha"])
    out = read_image(tmp_path / "ga.tif")
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, g16)


def test_palette_and_bilevel_png(tmp_path):
    idx = (np.arange(H * W) % 4).reshape(H, W).astype(np.uint8)
    p = Image.fromarray(idx, mode="L").convert("P")
    pal = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120] + [0] * (768 - 12)
    p.putpalette(pal)
    p.save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png")
    assert out.shape == (H, W, 3)
    np.testing.assert_array_equal(out[0, 1], [40, 50, 60])

    Image.fromarray(idx > 1).save(tmp_path / "bw.png")
    out = read_image(tmp_path / "bw.png")
    assert out.shape == (H, W) and out.dtype == np.uint8
    assert set(np.unique(out).tolist()) <= {0, 255}


# -- bad files: BadFileError naming the file --------------------------------------------

def _assert_names(err: pytest.ExceptionInfo, path) -> None:
    assert err.value.path == path
    assert str(path) in str(err.value)
    assert err.value.problem


def test_truncated_png(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(_ramp(np.uint8, 3)).save(good)
    data = good.read_bytes()
    bad = tmp_path / "truncated.png"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFileError) as err:
        read_image(bad)
    _assert_names(err, bad)


def test_truncated_jpeg(tmp_path):
    good = tmp_path / "good.jpg"
    Image.fromarray(_ramp(np.uint8, 3)).save(good)
    data = good.read_bytes()
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFileError) as err:
        read_image(bad)
    _assert_names(err, bad)


@pytest.mark.parametrize("name", ["garbage.png", "garbage.jpg", "garbage.bmp", "garbage.tif"])
def test_garbage_bytes(tmp_path, name):
    bad = tmp_path / name
    bad.write_bytes(b"this is not an image at all\x00\x01\x02" * 10)
    with pytest.raises(BadFileError) as err:
        read_image(bad)
    _assert_names(err, bad)
    with pytest.raises(BadFileError):
        image_size(bad)


def test_empty_file(tmp_path):
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    with pytest.raises(BadFileError) as err:
        read_image(bad)
    _assert_names(err, bad)


def test_truncated_tiff(tmp_path):
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, _ramp(np.uint16))
    data = good.read_bytes()
    bad = tmp_path / "truncated.tif"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(BadFileError) as err:
        read_image(bad)
    _assert_names(err, bad)


@pytest.mark.parametrize("name", ["missing.png", "missing.tif"])
def test_missing_file(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(BadFileError) as err:
        read_image(path)
    _assert_names(err, path)
    assert "not found" in err.value.problem
    with pytest.raises(BadFileError) as err:
        image_size(path)
    _assert_names(err, path)


def test_is_image_file(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / ".hidden.png").write_bytes(b"")
    (tmp_path / "d.png").mkdir()
    (tmp_path / "UPPER.PNG").write_bytes(b"")
    assert not is_image_file(tmp_path / "a.txt")
    assert not is_image_file(tmp_path / ".hidden.png")
    assert not is_image_file(tmp_path / "d.png")
    assert is_image_file(tmp_path / "UPPER.PNG")


def _png_header_only(path, width: int, height: int) -> None:
    """A PNG whose header claims width x height 8-bit gray pixels, with almost no data."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_a_bad_file(tmp_path):
    """A header claiming 4.9 billion pixels is refused with BadFileError, not a crash."""
    bomb = tmp_path / "bomb.png"
    _png_header_only(bomb, 70000, 70000)
    with pytest.raises(BadFileError) as err:
        read_image(bomb)
    _assert_names(err, bomb)
    with pytest.raises(BadFileError):
        image_size(bomb)


def test_header_larger_than_data_is_truncated(tmp_path):
    bad = tmp_path / "short.png"
    _png_header_only(bad, 64, 64)
    with pytest.raises(BadFileError) as err:
        read_image(bad)
    _assert_names(err, bad)


def test_bad_files_are_closed(tmp_path):
    """A file that fails to decode is closed at once (no ResourceWarning; on Windows an open
    handle would stop the user from replacing or deleting the bad file)."""
    import gc
    import warnings

    good = tmp_path / "good.png"
    Image.fromarray(_ramp(np.uint8, 3)).save(good)
    data = good.read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "gifish.png").write_bytes(b"GIF89a? no, just junk" * 20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("trunc.png", "gifish.png"):
            try:
                read_image(tmp_path / name)
            except BadFileError:
                pass
            else:
                raise AssertionError(f"{name} was read")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
