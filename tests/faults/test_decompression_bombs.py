"""Item 8 of issue 10: images and masks over a documented, configurable pixel limit are
refused by name from their header, before decoding; the rest of the import goes on."""

from __future__ import annotations

import struct
import time
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image

from segstudio.io.images import MAX_PIXELS_ENV
from segstudio.services.project_import import import_folder


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(path, side: int = 40000) -> None:
    """A small gray PNG whose header declares side x side pixels (its data is cut short)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (side + 1) * 64, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))


def _gray(path, size=32) -> None:
    Image.fromarray(np.zeros((size, size), np.uint8)).save(path)


@pytest.fixture
def folders(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    return images, masks


def test_a_png_bomb_is_refused_by_name_and_the_rest_imported(folders, tmp_path):
    images, masks = folders
    _gray(images / "ok.png")
    _gray(masks / "ok.png")
    png_bomb(images / "bomb.png")
    _gray(images / "masked.png")
    png_bomb(masks / "masked.png")  # a bomb as the mask of a normal image
    t0 = time.perf_counter()
    project, report = import_folder(tmp_path / "proj", images, masks)
    assert time.perf_counter() - t0 < 10  # nothing was decoded (it took 91 s)
    skipped = {p.relative_to(tmp_path).as_posix(): why for p, why in report.skipped}
    assert set(skipped) == {"images/bomb.png", "masks/masked.png"}
    assert all("40000x40000 pixels is over the limit" in why for why in skipped.values())
    assert report.added == 1 and [r.path for r in project.images()] == ["../images/ok.png"]
    project.close()


def test_the_limit_is_configurable_and_covers_tiff(folders, tmp_path, monkeypatch):
    images, masks = folders
    _gray(images / "small.png", 16)
    _gray(images / "big.png", 64)
    tifffile.imwrite(images / "big.tif", np.zeros((64, 64), np.uint8))
    monkeypatch.setenv(MAX_PIXELS_ENV, str(32 * 32))
    project, report = import_folder(tmp_path / "proj", images)
    assert sorted(p.name for p, _ in report.skipped) == ["big.png", "big.tif"]
    assert all(f"set {MAX_PIXELS_ENV}" in why for _, why in report.skipped)
    assert report.added == 1
    project.close()
