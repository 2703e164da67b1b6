"""Annotation orchestration without Qt: load an image for editing, save its mask and
re-index it, edit the class table, merge one class into another across the project.

The GUI calls these (long ones in a worker thread); they take and return plain data.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segstudio.core.atomic import write_text_atomic
from segstudio.core.classes import ClassInfo, ClassTable, default_color
from segstudio.core.errors import BadFileError, ProjectError
from segstudio.core.statuses import ImageStatus
from segstudio.io.images import read_image
from segstudio.io.masks import MaskFormat, check_labels, read_mask, write_mask
from segstudio.services import corrections, prediction_cache
from segstudio.services.indexing import index_image
from segstudio.store.folders import check_writable
from segstudio.store.project import CountUpdate, ImageRecord, Project

#: Where masks painted on unlabelled images go, relative to the project folder.
NEW_MASKS_DIR = "masks"
BACKUPS_DIR = "backups"
#: In each backup folder: backup file name -> the mask path it was copied from.
BACKUP_INDEX = "originals.json"


@dataclass
class EditableImage:
    """An image and its mask, decoded and ready for the canvas."""

    record: ImageRecord
    pixels: np.ndarray  # (H, W) or (H, W, 3) uint8/uint16/float32
    labels: np.ndarray  # (H, W) uint8 or uint16
    mask_path: Path  # where saving writes
    mask_format: MaskFormat
    palette: list[int] | None = None
    new_mask: bool = False  # no mask file yet: saving creates one
    #: the mask as last loaded or saved: for an image never predicted, corrections are the
    #: pixels a save changed against it
    reference: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.reference is None:
            self.reference = np.array(self.labels, copy=True)


def new_mask_path(project: Project, rec: ImageRecord) -> Path:
    """``masks/<image path inside the project>.png``; images from outside get ``<id>_<name>.png``.

    Mirroring the relative path keeps same-named images from different folders apart; an
    existing file is never overwritten (the id is prefixed instead).
    """
    rel = Path(rec.path)
    if rel.is_absolute() or ".." in rel.parts:
        path = project.root / NEW_MASKS_DIR / f"{rec.id}_{rel.stem}.png"
    else:
        path = project.root / NEW_MASKS_DIR / rel.with_suffix(".png")
    if path.exists():
        path = path.with_name(f"{rec.id}_{path.name}")
    return path


def load_for_editing(project: Project, image_id: int, table: ClassTable | None = None) -> EditableImage:
    """Read the image and its mask (an empty mask when it has none). Raises BadFileError."""
    rec = project.image(image_id)
    table = table if table is not None else project.class_table()
    pixels = read_image(rec.abs_path)
    h, w = pixels.shape[:2]
    if rec.abs_mask_path is not None:
        decoded = read_mask(rec.abs_mask_path, table, expected_size=(w, h))
        labels = np.array(decoded.labels)  # writable copy: decoders may return read-only views
        if labels.dtype not in (np.uint8, np.uint16):
            labels = labels.astype(np.uint16 if labels.max(initial=0) > 255 else np.uint8)
        return EditableImage(rec, pixels, labels, rec.abs_mask_path, decoded.format, decoded.palette)
    wide = table.num_classes > 256
    labels = np.zeros((h, w), np.uint16 if wide else np.uint8)
    fmt = MaskFormat.INDEX16 if wide else MaskFormat.PALETTE
    return EditableImage(rec, pixels, labels, new_mask_path(project, rec), fmt, None, new_mask=True)


def save_mask(project: Project, image: EditableImage, labels: np.ndarray, table: ClassTable) -> CountUpdate:
    """Write the mask atomically in its original format, record it, re-count its classes,
    and record the corrected pixels for the next retrain (:func:`record_corrections`).

    A predicted image becomes 'corrected' once saved; an unlabelled one 'labelled'. Labels
    outside the class table, or a mask path outside the project's folders, are refused
    before anything is written.
    """
    check_labels(image.mask_path, np.bincount(np.asarray(labels).reshape(-1)), table)
    check_writable(project, image.mask_path)
    write_mask(image.mask_path, labels, image.mask_format, table, image.palette)
    rec = image.record
    if image.new_mask:
        project.set_mask_path(rec.id, image.mask_path, str(image.mask_format))
        image.new_mask = False
    status = project.image(rec.id).status
    if status == ImageStatus.PREDICTED:
        project.set_status(rec.id, ImageStatus.CORRECTED)
    elif status == ImageStatus.UNLABELLED:
        project.set_status(rec.id, ImageStatus.LABELLED)
    counts = index_image(project, rec.id)
    record_corrections(project, image, labels)
    return counts


def record_corrections(project: Project, image: EditableImage, labels: np.ndarray) -> None:
    """After a save: the pixels that differ from the model's cached prediction (or, never
    predicted, from the mask as loaded) become pending corrections; the prediction's
    disagreement score follows the new mask."""
    cached = prediction_cache.load_cached(project, image.record.id)
    if cached is not None and cached.classes.shape != labels.shape:
        cached = None  # the image changed size since it was predicted
    reference = cached.classes if cached is not None else image.reference
    if reference is not None and reference.shape == labels.shape:
        corrections.record_save(project, image.record.id, labels, reference)
    if cached is not None:
        prediction_cache.refresh_scores(project, image.record.id, labels)
    image.reference = np.array(labels, copy=True)


# -- class table edits ---------------------------------------------------------------


def add_class(project: Project, name: str, color: tuple[int, int, int] | None = None) -> ClassInfo:
    """Append a class with the next free id (and a stable default colour)."""
    table = project.class_table()
    new_id = table.num_classes
    if new_id > 65535:
        raise ProjectError("no free class id left (ids stop at 65535)")
    info = ClassInfo(new_id, name.strip() or f"class {new_id}", color or default_color(new_id))
    project.set_class(info)
    return info


def update_class(project: Project, info: ClassInfo) -> None:
    """Rename, recolour or (un)mark as ignore. Index and palette masks store ids, so no mask
    changes -- but colour (RGB) masks store the colour itself: recolouring a class they use
    would leave them unreadable, so it is refused for them."""
    old = project.class_table().get(info.id)
    if old is None:
        raise ProjectError(f"no class with id {info.id}")
    if info.color != old.color:
        rgb_masks = [r for r in project.images(labelled_only=True) if r.mask_format == MaskFormat.RGB]
        if rgb_masks:
            raise ProjectError(
                f"{len(rgb_masks)} masks store classes as colours (e.g. {rgb_masks[0].mask_path}); "
                f"recolouring class {info.id} would make them unreadable. Convert them to index "
                "masks first, or keep the colour.")
    project.set_class(info)


@dataclass
class MergeReport:
    source: int
    target: int
    rewritten: int = 0
    backup_dir: Path | None = None
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0


def merge_class_steps(
    project: Project, source: int, target: int, *, cancelled: Callable[[], bool] = lambda: False
) -> Iterator[tuple[int, int, MergeReport]]:
    """Merge class ``source`` into ``target``: rewrite every mask containing it, one per step.

    Each mask is copied to ``backups/merge-<source>-into-<target>-<time>/<image id>_<name>``
    first (named by the image id, never by the stored path, so a backup stays in the project);
    ``originals.json`` there maps each backup to the mask it restores. A mask outside the
    project's folders is refused, not rewritten. Yields (done, total, report) after each image;
    when every mask was rewritten the source class is removed from the table.
    Runs in a worker thread in the GUI; ``cancelled`` is checked between images.
    """
    table = project.class_table()
    if source == target:
        raise ProjectError("a class cannot be merged into itself")
    for cid in (source, target):
        if cid not in table:
            raise ProjectError(f"no class with id {cid}")
    if source == 0:
        raise ProjectError("the background class (0) cannot be merged away")
    t0 = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report = MergeReport(source, target, backup_dir=project.root / BACKUPS_DIR / f"merge-{source}-into-{target}-{stamp}")
    ids = sorted(project.images_with_class(source))
    originals: dict[str, str] = {}
    total = len(ids)
    yield 0, total, report
    try:
        for done, image_id in enumerate(ids, 1):
            if cancelled():
                break
            rec = project.image(image_id)
            path = rec.abs_mask_path
            try:
                if path is None:
                    raise BadFileError(rec.abs_path, "counted pixels but has no mask")
                decoded = read_mask(path, table)
                labels = np.array(decoded.labels)
                hit = labels == source
                if hit.any():
                    check_writable(project, path)
                    dest = report.backup_dir / f"{rec.id}_{path.name}"
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)
                    originals[dest.name] = str(path)
                    labels[hit] = target
                    write_mask(path, labels, decoded.format, table, decoded.palette)
                    report.rewritten += 1
                index_image(project, image_id)
            except (BadFileError, ProjectError, OSError) as e:
                report.failed.append((path or rec.abs_path, str(getattr(e, "problem", e))))
            report.seconds = time.perf_counter() - t0
            yield done, total, report
    finally:  # also when the caller stops early: every backup taken stays restorable
        if originals:
            write_text_atomic(report.backup_dir / BACKUP_INDEX, json.dumps(originals, indent=1))
    if not report.failed and not cancelled():
        project.set_class_table(ClassTable([c for c in table if c.id != source]))
    report.seconds = time.perf_counter() - t0


def merge_classes(project: Project, source: int, target: int) -> MergeReport:
    """Run :func:`merge_class_steps` to the end (CLI and tests)."""
    steps = list(merge_class_steps(project, source, target))
    return steps[-1][2]
