"""Mask decoding and atomic, format-preserving writing.

Formats, detected per file:
- ``index8`` / ``index16``: pixel value = class id (PNG 'L' / 'I;16', or TIFF).
- ``palette``: 'P' PNG as Pascal VOC tools write it; index = class, 255 = void.
- ``rgb``: colour mask mapped to class ids through the class table's colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image

from segstudio.core.atomic import atomic_path
from segstudio.core.classes import VOC_VOID, ClassTable
from segstudio.core.errors import BadFileError
from segstudio.io.images import TIFF_SUFFIXES, _read_pil, _read_tiff, check_pixels


class MaskFormat(StrEnum):
    INDEX8 = "index8"
    INDEX16 = "index16"
    PALETTE = "palette"
    RGB = "rgb"


@dataclass
class DecodedMask:
    labels: np.ndarray  # (H, W) uint8 or uint16 class ids
    format: MaskFormat
    palette: list[int] | None = None  # 768 ints for palette masks, kept to write back unchanged

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return self.labels.shape[1], self.labels.shape[0]


def _rgb_to_labels(path: Path, rgb: np.ndarray, table: ClassTable | None) -> np.ndarray:
    if table is None or not len(table):
        raise BadFileError(path, "RGB colour mask needs a class table with colours (--classes FILE)")
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    colors, inverse = np.unique(packed.reshape(-1), return_inverse=True)
    lookup = {(r << 16) | (g << 8) | b: cid for (r, g, b), cid in table.color_to_id().items()}
    ids = np.empty(colors.size, dtype=np.int64)
    unknown = []
    for i, c in enumerate(colors.tolist()):
        if c in lookup:
            ids[i] = lookup[c]
        else:
            unknown.append(f"#{c:06x}")
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else "")
        raise BadFileError(path, f"colour(s) not in the class table: {shown}")
    dtype = np.uint8 if ids.max(initial=0) < 256 else np.uint16
    return ids.astype(dtype)[inverse].reshape(rgb.shape[:2])


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _fast_gray_png(p: Path) -> DecodedMask | None:
    """Decode an 8/16-bit grayscale PNG (an index mask) with imagecodecs' libpng binding.

    ~2x faster than Pillow's Python-level loader on small masks and releases the GIL.
    Returns None for anything else (palette, colour, odd bit depths): Pillow handles those.
    """
    try:
        import imagecodecs
    except ImportError:  # optional speed-up
        return None
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise BadFileError(p, "mask file not found") from None
    except OSError as e:
        raise BadFileError(p, f"cannot read mask ({e.strerror or e})") from None
    # IHDR sits at a fixed place: bit depth at byte 24, colour type at byte 25
    if len(data) < 33 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    bit_depth, colour_type, interlace = data[24], data[25], data[28]
    if colour_type != 0 or bit_depth not in (8, 16) or interlace:
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    check_pixels(p, width, height)  # the libpng path has no decompression-bomb guard of its own
    try:
        # libspng is ~1.5x faster than libpng on small 8-bit masks (its 16-bit output
        # byte order differs, so libpng decodes those)
        spng = getattr(imagecodecs, "spng_decode", None)
        decode = spng if spng is not None and bit_depth == 8 else imagecodecs.png_decode
        arr = decode(data)
    except ImportError:  # DelayedImportError: this imagecodecs lacks its libpng codec (a frozen
        return None      # bundle without imagecodecs._png, a minimal build): Pillow decodes it
    except Exception as e:  # imagecodecs raises PngError/DelayedImportError variants
        raise BadFileError(p, f"unreadable or truncated PNG mask ({e})") from None
    if arr.ndim != 2:
        return None
    fmt = MaskFormat.INDEX8 if arr.dtype == np.uint8 else MaskFormat.INDEX16
    return DecodedMask(np.ascontiguousarray(arr), fmt)


def decode_mask(path: str | Path, table: ClassTable | None = None) -> DecodedMask:
    """Decode a mask file to class ids without checking them against the table.

    ``table`` is only needed for RGB colour masks.
    """
    p = Path(path)
    if p.suffix.lower() in TIFF_SUFFIXES:
        if not p.exists():
            raise BadFileError(p, "mask file not found")
        arr = _read_tiff(p)
        if arr.ndim == 3 and arr.shape[2] in (3, 4):
            return DecodedMask(_rgb_to_labels(p, arr[..., :3], table), MaskFormat.RGB)
        if arr.ndim == 3 and arr.shape[2] in (1, 2):  # gray, or gray + alpha
            arr = arr[..., 0]
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer) or arr.dtype.itemsize > 2:
            raise BadFileError(p, f"not an index mask: shape {arr.shape}, type {arr.dtype}")
        if arr.dtype == np.int16 or arr.dtype == np.int8:
            if arr.min() < 0:
                raise BadFileError(p, "negative label values in mask")
            arr = arr.astype(np.uint16)
        fmt = MaskFormat.INDEX8 if arr.dtype == np.uint8 else MaskFormat.INDEX16
        return DecodedMask(np.ascontiguousarray(arr), fmt)
    if p.suffix.lower() == ".png":
        fast = _fast_gray_png(p)
        if fast is not None:
            return fast
    im = _read_pil(p)
    mode = im.mode
    if mode == "P":
        return DecodedMask(np.asarray(im, dtype=np.uint8), MaskFormat.PALETTE, im.getpalette())
    if mode == "L":
        return DecodedMask(np.asarray(im, dtype=np.uint8), MaskFormat.INDEX8)
    if mode in ("I;16", "I;16B", "I;16L"):
        return DecodedMask(np.asarray(im).astype(np.uint16), MaskFormat.INDEX16)
    if mode == "I":
        arr = np.asarray(im)
        if arr.min() < 0 or arr.max() > 65535:
            raise BadFileError(p, "label values outside 0..65535")
        return DecodedMask(arr.astype(np.uint16), MaskFormat.INDEX16)
    if mode == "1":
        return DecodedMask(np.asarray(im, dtype=np.uint8), MaskFormat.INDEX8)
    if mode == "LA":  # gray + alpha: the alpha carries no class information
        return DecodedMask(np.ascontiguousarray(np.asarray(im)[..., 0]), MaskFormat.INDEX8)
    if mode in ("RGB", "RGBA"):
        rgb = np.asarray(im)[..., :3]
        if table is not None and len(table.color_to_id()) and _is_colour_mask(rgb, table):
            return DecodedMask(_rgb_to_labels(p, rgb, table), MaskFormat.RGB)
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
            return DecodedMask(np.ascontiguousarray(rgb[..., 0]), MaskFormat.INDEX8)
        return DecodedMask(_rgb_to_labels(p, rgb, table), MaskFormat.RGB)
    raise BadFileError(p, f"unsupported mask mode {mode!r}")


def _is_colour_mask(rgb: np.ndarray, table: ClassTable) -> bool:
    """A gray-looking RGB file is an index mask unless all its colours are table colours.

    An all-background colour mask (all black) stays a colour mask, so saving it after
    painting writes colours back rather than turning the user's RGB PNG into a gray one.
    """
    if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])):
        return True
    gray_colors = {c for c in table.color_to_id() if c[0] == c[1] == c[2]}
    values = np.unique(rgb[..., 0])
    return bool(gray_colors) and all((int(v), int(v), int(v)) in gray_colors for v in values)


def check_labels(path: str | Path, counts: np.ndarray, table: ClassTable | None) -> None:
    """Raise if any value with a non-zero count is not a class id of ``table``."""
    if table is None:
        return
    present = np.flatnonzero(counts)
    known = set(table.ids)
    unknown = [int(v) for v in present if int(v) not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:8])) + (" ..." if len(unknown) > 8 else "")
        raise BadFileError(path, f"label value(s) not in the class table: {shown}")


def read_mask(
    path: str | Path,
    table: ClassTable | None = None,
    expected_size: tuple[int, int] | None = None,
) -> DecodedMask:
    """Decode and validate: size (width, height) against the image, values against the table."""
    m = decode_mask(path, table)
    if expected_size is not None and m.size != tuple(expected_size):
        raise BadFileError(
            path, f"mask is {m.size[0]}x{m.size[1]} but its image is {expected_size[0]}x{expected_size[1]}"
        )
    check_labels(path, np.bincount(m.labels.reshape(-1)), table)
    return m


def palette_from_table(table: ClassTable | None, base: list[int] | None = None) -> list[int]:
    pal = list(base) if base else [0] * 768
    pal += [0] * (768 - len(pal))
    if table is not None:
        for c in table:
            if 0 <= c.id < 256:
                pal[3 * c.id : 3 * c.id + 3] = list(c.color)
    if base is None and (table is None or VOC_VOID not in table):
        pal[3 * VOC_VOID : 3 * VOC_VOID + 3] = [224, 224, 192]  # VOC's void colour
    return pal


def write_mask(
    path: str | Path,
    labels: np.ndarray,
    fmt: MaskFormat | str = MaskFormat.INDEX8,
    table: ClassTable | None = None,
    palette: list[int] | None = None,
) -> None:
    """Write ``labels`` atomically in ``fmt``; a crash never leaves a half-written mask."""
    p = Path(path)
    fmt = MaskFormat(fmt)
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be 2-D, got shape {labels.shape}")
    if fmt in (MaskFormat.INDEX8, MaskFormat.PALETTE) and labels.max(initial=0) > 255:
        fmt = MaskFormat.INDEX16  # cannot store ids > 255 in 8 bits; widen rather than lose labels
    is_tiff = p.suffix.lower() in TIFF_SUFFIXES
    with atomic_path(p) as tmp:
        if fmt is MaskFormat.RGB:
            if table is None:
                raise ValueError("writing an RGB colour mask needs the class table")
            lut = np.zeros((int(labels.max(initial=0)) + 1, 3), dtype=np.uint8)
            for c in table:
                if c.id < lut.shape[0]:
                    lut[c.id] = c.color
            rgb = lut[labels]
            if is_tiff:
                _tiff_write(tmp, rgb)
            else:
                Image.fromarray(rgb).save(tmp, format=_pil_format(p))
        elif fmt is MaskFormat.PALETTE:
            im = Image.fromarray(labels.astype(np.uint8)).convert("P")
            im.putpalette(palette_from_table(table, palette))
            im.save(tmp, format="PNG")
        elif fmt is MaskFormat.INDEX16:
            if is_tiff:
                _tiff_write(tmp, labels.astype(np.uint16))
            else:
                Image.fromarray(labels.astype(np.uint16)).save(tmp, format="PNG")
        else:
            if is_tiff:
                _tiff_write(tmp, labels.astype(np.uint8))
            else:
                Image.fromarray(labels.astype(np.uint8)).save(tmp, format=_pil_format(p))


def _pil_format(p: Path) -> str:
    return {".bmp": "BMP"}.get(p.suffix.lower(), "PNG")


def _tiff_write(tmp: Path, arr: np.ndarray) -> None:
    import tifffile

    tifffile.imwrite(tmp, arr, compression="zlib")
