"""Per-class pixel statistics: count masks that changed since they were last counted."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segstudio.core.classes import ClassTable
from segstudio.core.errors import BadFileError
from segstudio.io.masks import check_labels, decode_mask
from segstudio.services.project_import import count_classes_from_bincount
from segstudio.store.project import CountUpdate, ImageRecord, Project

Progress = Callable[[int, int], None]


@dataclass
class IndexReport:
    checked: int = 0
    counted: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0


def _count_one(rec: ImageRecord, table: ClassTable, st: os.stat_result) -> CountUpdate:
    assert rec.abs_mask_path is not None
    m = decode_mask(rec.abs_mask_path, table)
    if m.size != (rec.width, rec.height):
        raise BadFileError(
            rec.abs_mask_path,
            f"mask is {m.size[0]}x{m.size[1]} but its image is {rec.width}x{rec.height}",
        )
    raw = np.bincount(m.labels.reshape(-1))
    check_labels(rec.abs_mask_path, raw, table)
    pixels, ignored = count_classes_from_bincount(raw, table)
    return CountUpdate(rec.id, pixels, ignored, st.st_size, st.st_mtime)


def _needs_count(rec: ImageRecord, st: os.stat_result) -> bool:
    return rec.indexed_mask_bytes != st.st_size or rec.indexed_mask_mtime != st.st_mtime


def reindex(
    project: Project,
    force: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IndexReport:
    """Count the masks whose size or mtime changed (all of them with ``force``).

    Decoding runs in a thread pool: Pillow and zlib release the GIL while decoding.
    """
    t0 = time.perf_counter()
    report = IndexReport()
    table = project.class_table()
    todo: list[tuple[ImageRecord, os.stat_result]] = []
    for rec in project.images(labelled_only=True):
        report.checked += 1
        try:
            st = os.stat(rec.abs_mask_path)  # type: ignore[arg-type]
        except OSError:
            report.failed.append((rec.abs_mask_path, "mask file not found"))  # type: ignore[arg-type]
            continue
        if force or _needs_count(rec, st):
            todo.append((rec, st))
    updates: list[CountUpdate] = []
    if todo:
        n_workers = workers or min(8, (os.cpu_count() or 2))
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(_count_one, rec, table, st) for rec, st in todo]
            for k, fut in enumerate(futures):
                try:
                    updates.append(fut.result())
                except BadFileError as e:
                    report.failed.append((e.path, e.problem))
                    project.clear_counts(todo[k][0].id)
                if progress:
                    progress(k + 1, len(todo))
        project.set_counts(updates)
    report.counted = len(updates)
    report.seconds = time.perf_counter() - t0
    return report


def index_image(project: Project, image_id: int) -> CountUpdate:
    """Re-count one image's mask now (after the GUI saved it). Raises BadFileError."""
    rec = project.image(image_id)
    if rec.abs_mask_path is None:
        raise BadFileError(rec.abs_path, "image has no mask to index")
    try:
        st = os.stat(rec.abs_mask_path)
    except OSError:
        raise BadFileError(rec.abs_mask_path, "mask file not found") from None
    update = _count_one(rec, project.class_table(), st)
    project.set_counts([update])
    return update
