"""Per-class pixel statistics and the fingerprint: measure masks that changed since they were last counted."""

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
from segstudio.core.stats import fast_bincount, split_bincount
from segstudio.io.images import read_image
from segstudio.io.masks import check_labels, decode_mask
from segstudio.services.fingerprint import measure
from segstudio.store.project import CountUpdate, ImageRecord, Project

Progress = Callable[[int, int], None]

CHUNK = 64  # masks per progress report and per DB transaction


@dataclass
class IndexReport:
    checked: int = 0
    counted: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Job:
    image_id: int
    image: Path
    mask: Path
    size: tuple[int, int]
    mask_bytes: int
    mask_mtime: float


def _count_job(job: _Job, table: ClassTable) -> CountUpdate:
    m = decode_mask(job.mask, table)
    if m.size != job.size:
        raise BadFileError(
            job.mask, f"mask is {m.size[0]}x{m.size[1]} but its image is {job.size[0]}x{job.size[1]}"
        )
    raw = fast_bincount(m.labels)
    check_labels(job.mask, raw, table)
    mc = split_bincount(raw, table.num_classes, table.ignore_ids)
    try:  # the intensities are a nicety of the fingerprint: a bad image fails at training, by name
        image = read_image(job.image)
    except BadFileError:
        image = None
    fp = measure(job.image_id, image, m.labels, np.flatnonzero(mc.pixels))
    return CountUpdate(job.image_id, mc.pixels, mc.ignored, job.mask_bytes, job.mask_mtime, fp)


def _count_chunk(jobs: list[_Job], table: ClassTable) -> list[CountUpdate | tuple[str, str]]:
    """Counts, or (path, problem) for a bad file."""
    out: list[CountUpdate | tuple[str, str]] = []
    for job in jobs:
        try:
            out.append(_count_job(job, table))
        except BadFileError as e:
            out.append((str(e.path), e.problem))
    return out


def _needs_count(rec: ImageRecord, st: os.stat_result) -> bool:
    return rec.indexed_mask_bytes != st.st_size or rec.indexed_mask_mtime != st.st_mtime


def reindex(
    project: Project,
    force: bool = False,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> IndexReport:
    """Count the masks whose size or mtime changed (all of them with ``force``).

    Chunks run on a small thread pool: index-mask PNGs are decoded by libpng through
    imagecodecs, which releases the GIL (worker processes would cost more to start than
    2,000 masks take to count). ``cancel()`` returning True stops between chunks; what
    was counted so far is kept.
    """
    t0 = time.perf_counter()
    report = IndexReport()
    table = project.class_table()
    jobs: list[_Job] = []
    measured = project.fingerprinted_ids()  # projects indexed before fingerprints get them now
    for rec in project.images(labelled_only=True):
        report.checked += 1
        assert rec.abs_mask_path is not None
        try:
            st = os.stat(rec.abs_mask_path)
        except OSError:
            report.failed.append((rec.abs_mask_path, "mask file not found"))
            continue
        if force or _needs_count(rec, st) or rec.id not in measured:
            jobs.append(_Job(rec.id, rec.abs_path, rec.abs_mask_path, (rec.width, rec.height), st.st_size, st.st_mtime))

    chunks = [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]

    def run(chunk: list[_Job]) -> list[CountUpdate | tuple[str, str]]:
        return [] if cancel is not None and cancel() else _count_chunk(chunk, table)

    if len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            _collect(project, pool.map(run, chunks), report, progress, len(jobs))
    else:
        _collect(project, map(run, chunks), report, progress, len(jobs))
    report.seconds = time.perf_counter() - t0
    return report


def _collect(project, results, report: IndexReport, progress, total: int) -> None:
    updates: list[CountUpdate] = []
    done = 0
    for chunk in results:
        for item in chunk:
            if isinstance(item, CountUpdate):
                updates.append(item)
            else:
                report.failed.append((Path(item[0]), item[1]))
            done += 1
        if progress:
            progress(done, total)
    failed_paths = {p for p, _ in report.failed}
    if failed_paths:
        for rec in project.images(labelled_only=True):
            if rec.abs_mask_path in failed_paths:
                project.clear_counts(rec.id)
    project.set_counts(updates)
    report.counted = len(updates)


def index_image(project: Project, image_id: int) -> CountUpdate:
    """Re-count one image's mask now (after the GUI saved it). Raises BadFileError."""
    rec = project.image(image_id)
    if rec.abs_mask_path is None:
        raise BadFileError(rec.abs_path, "image has no mask to index")
    try:
        st = os.stat(rec.abs_mask_path)
    except OSError:
        raise BadFileError(rec.abs_mask_path, "mask file not found") from None
    job = _Job(rec.id, rec.abs_path, rec.abs_mask_path, (rec.width, rec.height), st.st_size, st.st_mtime)
    update = _count_job(job, project.class_table())
    project.set_counts([update])
    return update
