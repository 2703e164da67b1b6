"""Import a folder of images (+ masks) into a project; bad files are reported, not fatal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segstudio.core.classes import MAX_SPARSE_ID, VOC_VOID, ClassInfo, ClassTable, load_class_table
from segstudio.core.errors import BadFileError, ProjectError
from segstudio.core.fingerprint import ImageFingerprint
from segstudio.core.split import VAL_PERCENT, path_hash, stratified_split
from segstudio.core.stats import split_bincount
from segstudio.io.images import is_image_file, read_image
from segstudio.io.masks import MaskFormat, check_labels, decode_mask
from segstudio.services.fingerprint import intensity_percentiles, measure_objects
from segstudio.store.folders import record_source_folders
from segstudio.store.project import CountUpdate, Project

Progress = Callable[[int, int], None]
#: Without a class table the classes are the ids found, and a model has max id + 1 outputs:
#: one stray 40000 made 40001 classes (an 11.9 GiB confusion matrix). Larger ids need --classes.
MAX_INFERRED_ID = MAX_SPARSE_ID
LOSSY_SUFFIXES = {".jpg", ".jpeg"}


def _sparse_id_problem(counts: np.ndarray) -> str:
    big = [int(v) for v in np.flatnonzero(counts[MAX_INFERRED_ID + 1 :]) + MAX_INFERRED_ID + 1]
    shown = ", ".join(map(str, big[:5])) + (" ..." if len(big) > 5 else "")
    return (f"label value(s) {shown} above {MAX_INFERRED_ID} with no class table "
            f"(each id up to the largest would become a class; give a class table to use them)")


@dataclass
class ImportReport:
    added: int = 0
    labelled: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{p}: {why}" for p, why in self.skipped]


@dataclass
class _Pending:
    image: Path
    width: int
    height: int
    channels: int
    mask: Path | None = None
    fmt: MaskFormat | None = None
    counts: np.ndarray | None = None  # bincount over all values (before the class table)
    objects: dict | None = None  # the fingerprint's objects per class (services.fingerprint)
    intensity: list[float] | None = None


def stable_split(rel_path: str, val_percent: int = VAL_PERCENT) -> str:
    """Same answer on every machine and every run: a CRC of the relative path."""
    return "val" if path_hash(rel_path) % 100 < val_percent else "train"


def find_mask(image: Path, masks_dir: Path | None, masks_by_stem: dict[str, Path]) -> Path | None:
    if masks_dir is None:
        return None
    return masks_by_stem.get(image.stem)


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def import_folder(
    project_dir: str | Path,
    images_dir: str | Path,
    masks_dir: str | Path | None = None,
    classes_file: str | Path | None = None,
    progress: Progress | None = None,
) -> tuple[Project, ImportReport]:
    """Create (or extend) the project at ``project_dir`` from ``images_dir`` (+ ``masks_dir``).

    Each bad file is skipped with its reason; the rest is imported.
    Raises ProjectError/BadFileError only for problems that stop everything (a missing
    folder, an unreadable class table).
    """
    images_dir = Path(images_dir).expanduser().resolve()
    if not images_dir.is_dir():
        raise ProjectError(f"{images_dir}: images folder not found")
    mdir = Path(masks_dir).expanduser().resolve() if masks_dir else None
    if mdir is not None and not mdir.is_dir():
        raise ProjectError(f"{mdir}: masks folder not found")
    given_table = load_class_table(classes_file) if classes_file else None

    project = Project.create(project_dir)
    record_source_folders(project, [images_dir, mdir])  # mask saves may write there, nowhere else
    table = given_table or (project.class_table() if len(project.class_table()) else None)
    report = ImportReport()

    masks_by_stem: dict[str, Path] = {}
    if mdir is not None:
        for m in _list_images(mdir):
            if m.stem in masks_by_stem:
                report.skipped.append((m, f"same file stem as the mask {masks_by_stem[m.stem].name}, "
                                          "which is used instead; rename one"))
            masks_by_stem.setdefault(m.stem, m)
    paired: dict[Path, Path] = {}  # mask -> its image: one mask never labels two images

    pending: list[_Pending] = []
    images = _list_images(images_dir)
    for k, img_path in enumerate(images):
        if progress:
            progress(k, len(images))
        try:
            arr = read_image(img_path)
        except BadFileError as e:
            report.skipped.append((e.path, e.problem))
            continue
        h, w = arr.shape[:2]
        item = _Pending(img_path, w, h, 1 if arr.ndim == 2 else arr.shape[2])
        mpath = find_mask(img_path, mdir, masks_by_stem)
        if mpath is not None and mpath in paired:
            report.skipped.append((img_path, f"its mask {mpath.name} is already the mask of "
                                             f"{paired[mpath].name} (same file stem); rename one"))
            continue
        if mpath is not None:
            paired[mpath] = img_path
            try:
                if mpath.suffix.lower() in LOSSY_SUFFIXES:
                    raise BadFileError(mpath, "JPEG masks are lossy: compression noise would become extra "
                                              "classes; save masks as PNG or TIFF")
                decoded = decode_mask(mpath, table)
                if decoded.size != (w, h):
                    raise BadFileError(
                        mpath, f"mask is {decoded.size[0]}x{decoded.size[1]} but its image is {w}x{h}"
                    )
                item.mask, item.fmt = mpath, decoded.format
                item.counts = np.bincount(decoded.labels.reshape(-1))
                if table is None and item.counts.size > MAX_INFERRED_ID + 1:
                    raise BadFileError(mpath, _sparse_id_problem(item.counts))
                # the fingerprint while image and mask are decoded (not a second read by reindex)
                item.objects = measure_objects(decoded.labels, np.flatnonzero(item.counts))
                item.intensity = intensity_percentiles(arr)
            except BadFileError as e:
                report.skipped.append((e.path, e.problem))
                continue
        pending.append(item)

    table = _settle_class_table(table, pending)
    if given_table is not None or not len(project.class_table()):
        project.set_class_table(table)

    updates: list[CountUpdate] = []
    for item in pending:
        if item.counts is not None:
            try:
                check_labels(item.mask, item.counts, table)
            except BadFileError as e:
                report.skipped.append((e.path, e.problem))
                continue
        rel = project.relativize(item.image)
        image_id = project.add_image(
            item.image, item.width, item.height,
            channels=item.channels,
            mask_path=item.mask,
            mask_format=item.fmt.value if item.fmt else None,
            split=stable_split(rel),
            image_bytes=item.image.stat().st_size,
            image_mtime=item.image.stat().st_mtime,
        )
        report.added += 1
        if item.mask is not None:
            report.labelled += 1
            mc = split_bincount(item.counts, table.num_classes, table.ignore_ids)
            st = item.mask.stat()
            # classes the table counts, as indexing measures them (no ignore classes)
            objects = {c: v for c, v in item.objects.items() if c < mc.pixels.size and mc.pixels[c] > 0}
            updates.append(CountUpdate(image_id, mc.pixels, mc.ignored, st.st_size, st.st_mtime,
                                       ImageFingerprint(image_id, objects, item.intensity)))
    project.set_counts(updates)
    split_by_class_presence(project)
    if progress:
        progress(len(images), len(images))
    return project, report



def _settle_class_table(table: ClassTable | None, pending: list[_Pending]) -> ClassTable:
    """Use the given table (adding VOC void where palette masks need it), or build one."""
    palette_void = any(
        p.fmt is MaskFormat.PALETTE and p.counts is not None and p.counts.size > VOC_VOID
        and p.counts[VOC_VOID] > 0
        for p in pending
    )
    if table is not None:
        if palette_void and VOC_VOID not in table:
            table = table.with_class(ClassInfo(VOC_VOID, "void", (224, 224, 192), True))
        return table
    values: set[int] = {0}
    for p in pending:
        if p.counts is not None:
            values.update(int(v) for v in np.flatnonzero(p.counts))
    return ClassTable.from_ids(values, ignore_ids=[VOC_VOID] if palette_void else [])


def split_by_class_presence(project: Project, percent: int = VAL_PERCENT) -> tuple[int, int]:
    """Re-split the labelled train/val images so every class with two or more images is in
    validation (core.split); test images stay. Returns (validation images, labelled images)."""
    table = project.class_table()
    ids, counts = project.counts_matrix(None, labelled_only=True)
    by_id = {r.id: r for r in project.images(labelled_only=True)}
    rows = [k for k, i in enumerate(ids) if by_id[i].split in ("train", "val")]
    keys = [by_id[ids[k]].path for k in rows]
    exclude = [0, *table.ignore_ids]
    to_val = stratified_split(keys, counts[rows] > 0, percent, exclude)
    val_ids = [ids[k] for k, v in zip(rows, to_val, strict=True) if v]
    train_ids = [ids[k] for k, v in zip(rows, to_val, strict=True) if not v]
    if val_ids:
        project.set_split(val_ids, "val")
    if train_ids:
        project.set_split(train_ids, "train")
    return len(val_ids), len(by_id)


def ensure_validation_image(project: Project) -> None:
    """At least one validation image once there are two labelled ones (never a split of 0)."""
    labelled = project.images(labelled_only=True)
    if len(labelled) >= 2 and not any(r.split == "val" for r in labelled):
        pick = min(labelled, key=lambda r: path_hash(r.path))
        project.set_split([pick.id], "val")
