"""Image reading: PNG, JPEG, BMP, TIFF (8/16-bit), gray, RGB or RGBA."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from segstudio.core.errors import BadFileError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
TIFF_SUFFIXES = {".tif", ".tiff"}

#: Images and masks declaring more pixels than this are refused by name before decoding:
#: a 1.5 MB PNG can declare 40000 x 40000 (1.6 G pixels, ~5 GB decoded). 2**29 (a 23k x 23k
#: tile) keeps legitimate microscopy tiles; set SEGSTUDIO_MAX_PIXELS to change it.
DEFAULT_MAX_PIXELS = 1 << 29
MAX_PIXELS_ENV = "SEGSTUDIO_MAX_PIXELS"
# Pillow's own guard (warns above this, refuses above twice this) stays as a backstop.
Image.MAX_IMAGE_PIXELS = 1 << 31


def max_pixels() -> int:
    """The pixel limit: SEGSTUDIO_MAX_PIXELS when it is a positive integer, else the default."""
    try:
        value = int(os.environ.get(MAX_PIXELS_ENV, ""))
    except ValueError:
        return DEFAULT_MAX_PIXELS
    return value if value > 0 else DEFAULT_MAX_PIXELS


def check_pixels(path: str | Path, width: int, height: int) -> None:
    """Raise BadFileError when a header declares more pixels than :func:`max_pixels`."""
    limit = max_pixels()
    if int(width) * int(height) > limit:
        raise BadFileError(path, f"image too large to open safely: {width}x{height} pixels is over the limit "
                                 f"of {limit} pixels (set {MAX_PIXELS_ENV} to allow more)")


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            check_pixels(path, page.imagewidth, page.imagelength)
            full_size = [p for p in tif.pages if not getattr(p, "is_reduced", False)]  # pyramids are fine
            if len(full_size) > 1:
                raise BadFileError(path, f"TIFF with {len(full_size)} pages (a stack or channels as pages); "
                                         "only its first page would be read -- save one image per file")
            arr = page.asarray()
    except BadFileError:
        raise
    except MemoryError:
        raise BadFileError(path, "image too large to decode in memory") from None
    except Exception as e:  # tifffile raises many types for corrupt files
        raise BadFileError(path, f"unreadable TIFF ({e})") from None
    return np.asarray(arr)


def _open_loaded(path: Path) -> Image.Image:
    im = Image.open(path)
    try:
        check_pixels(path, *im.size)  # from the header, before anything is decoded
        im.load()  # decode now so a truncated file fails here, not later
    except BaseException:
        im.close()  # a bad file must not stay open (Windows could not replace or delete it)
        raise
    return im


def _read_pil(path: Path) -> Image.Image:
    try:
        return _open_loaded(path)
    except FileNotFoundError:
        raise BadFileError(path, "file not found") from None
    except UnidentifiedImageError:
        raise BadFileError(path, "not an image Pillow can identify (corrupt or unsupported format)") from None
    except Image.DecompressionBombError as e:  # a header claiming > 2**32 pixels
        raise BadFileError(path, f"image too large to open safely ({e})") from None
    except MemoryError:
        raise BadFileError(path, "image too large to decode in memory") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise BadFileError(path, f"unreadable or truncated image ({e})") from None


def _normalize_image_array(path: Path, arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]  # alpha carries no class information
    if arr.ndim == 3 and arr.shape[2] in (1, 2):  # gray, or gray + alpha
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise BadFileError(path, f"unsupported image shape {arr.shape} (need gray, RGB or RGBA)")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype not in (np.uint8, np.uint16):
        if np.issubdtype(arr.dtype, np.integer) and arr.min() >= 0 and arr.max() < 65536:
            arr = arr.astype(np.uint16)
        elif np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float32)
        else:
            raise BadFileError(path, f"unsupported pixel type {arr.dtype}")
    return arr


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image to (H, W) or (H, W, 3), uint8 or uint16 (float32 for float TIFFs).

    Raises:
        BadFileError: missing, truncated, corrupt or unsupported file.
    """
    p = Path(path)
    try:
        return _read_image(p)
    except MemoryError:  # a conversion of a large image: this file fails, not the whole import
        raise BadFileError(p, "image too large to decode in memory") from None


def _read_image(p: Path) -> np.ndarray:
    if not p.exists():
        raise BadFileError(p, "file not found")
    if p.suffix.lower() in TIFF_SUFFIXES:
        return _normalize_image_array(p, _read_tiff(p))
    im = _read_pil(p)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode in ("I;16", "I;16B", "I;16L"):
        return _normalize_image_array(p, np.array(im, dtype=np.uint16))
    elif im.mode == "I":
        return _normalize_image_array(p, np.array(im))
    elif im.mode in ("1", "LA"):
        im = im.convert("L")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    return _normalize_image_array(p, np.asarray(im))


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the header only."""
    p = Path(path)
    if p.suffix.lower() in TIFF_SUFFIXES:
        import tifffile

        try:
            with tifffile.TiffFile(p) as tf:
                page = tf.pages[0]
                return int(page.imagewidth), int(page.imagelength)
        except Exception as e:
            raise BadFileError(p, f"unreadable TIFF ({e})") from None
    try:
        with Image.open(p) as im:
            return im.size
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise BadFileError(p, f"unreadable image ({e})") from None
