"""Predict, evaluate and export with a trained model, over plain folders of files."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from segstudio.core.classes import ClassInfo, ClassTable
from segstudio.core.errors import BadFileError, SegstudioError
from segstudio.core.metrics import confusion_matrix, edge_confusion, summarize
from segstudio.io.images import is_image_file, read_image
from segstudio.io.masks import MaskFormat, read_mask, write_mask
from segstudio.ml.export import export_model, read_card
from segstudio.ml.predict import Prediction, load_model, predict_image

Progress = Callable[[int, int, str], None]


def open_model(path: str | Path):
    p = Path(path)
    if not p.exists():
        raise BadFileError(p, "no such model file")
    if p.is_file() and not zipfile.is_zipfile(p):  # Keras itself calls that "File not found"
        raise BadFileError(p, "not a .keras model file (not a zip archive: corrupt or another format)")
    try:
        return load_model(p)
    except (ValueError, OSError, TypeError, KeyError, AttributeError, zipfile.BadZipFile) as e:
        first_line = (str(e).strip().splitlines() or [""])[0][:300]
        raise BadFileError(p, f"not a loadable Keras model ({type(e).__name__}: {first_line})") from None


def card_table(model_path: str | Path, num_outputs: int) -> ClassTable:
    """The class table stored in the model card, or plain ids 0..C-1."""
    classes = read_card(model_path).get("classes")
    if classes:
        from segstudio.core.classes import parse_color

        return ClassTable([ClassInfo(int(c["id"]), c["name"], parse_color(c["color"]), bool(c.get("ignore")))
                           for c in classes])
    return ClassTable.from_ids(range(num_outputs))


def list_images(folder: str | Path) -> list[Path]:
    d = Path(folder)
    if not d.is_dir():
        raise SegstudioError(f"{d}: not a folder")
    files = sorted(p for p in d.iterdir() if p.is_file() and is_image_file(p))
    if not files:
        raise SegstudioError(f"{d}: no images")
    return files


def predict_file(model, path: Path, tile: int = 512, tta: int = 1) -> Prediction:
    return predict_image(model, read_image(path), tile=tile, tta=tta)


def predict_folder(
    model_path: str | Path, images_dir: str | Path, out_dir: str | Path,
    confidence: bool = False, tile: int = 512, progress: Progress | None = None, tta: int = 1,
) -> list[Path]:
    """One 8-bit index PNG per image (same stem) in ``out_dir``; confidence maps in ``out_dir/confidence``."""
    model = open_model(model_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = list_images(images_dir)
    written = []
    for k, f in enumerate(files, 1):
        pred = predict_file(model, f, tile, tta)
        target = out / (f.stem + ".png")
        write_mask(target, pred.classes, MaskFormat.INDEX8)
        if confidence:
            (out / "confidence").mkdir(exist_ok=True)
            conf8 = np.round(pred.confidence * 255).astype(np.uint8)
            write_mask(out / "confidence" / (f.stem + ".png"), conf8, MaskFormat.INDEX8)
        written.append(target)
        if progress:
            progress(k, len(files), f.name)
    return written


def evaluate_folder(
    model_path: str | Path, images_dir: str | Path, masks_dir: str | Path,
    tile: int = 512, progress: Progress | None = None, tta: int = 1,
) -> dict:
    """``metrics.summarize`` over every image with a mask, with the edge-tolerant scores."""
    model = open_model(model_path)
    num_classes = int(model.output_shape[-1])
    table = card_table(model_path, num_classes)
    masks = {p.stem: p for p in Path(masks_dir).iterdir() if p.is_file() and is_image_file(p)} \
        if Path(masks_dir).is_dir() else None
    if masks is None:
        raise SegstudioError(f"{masks_dir}: not a folder")
    files = [f for f in list_images(images_dir) if f.stem in masks]
    if not files:
        raise SegstudioError(f"no image in {images_dir} has a mask with the same name in {masks_dir}")
    ignore = [i for i in table.ignore_ids]
    cm = np.zeros((num_classes, num_classes), np.int64)
    edge_cm = np.zeros_like(cm)
    for k, f in enumerate(files, 1):
        image = read_image(f)
        labels = read_mask(masks[f.stem], table, (image.shape[1], image.shape[0])).labels
        pred = predict_image(model, image, tile=tile, tta=tta)
        confusion_matrix(labels, pred.classes, num_classes, ignore or None, out=cm)
        edge_confusion(labels, pred.classes, num_classes, ignore or None, out=edge_cm)
        if progress:
            progress(k, len(files), f.name)
    return summarize(cm, [i for i in ignore if i < num_classes], edge_cm)


def export(model_path: str | Path, fmt: str, out: str | Path, project=None) -> Path:
    """Export and, when a project is given, record the exported model in its database."""
    open_model(model_path)  # a clear error for a bad file before any conversion
    dst = export_model(model_path, fmt, out)
    if project is not None:
        project.add_model(read_card(dst).get("segstudio_run"), dst, fmt, read_card(dst))
    return dst
