"""A segstudio project: a folder holding ``segstudio.db``; images and masks stay where they are.

Every method opens its own short session, so a Project can be shared by threads (one
session per call, per thread). Results are plain dataclasses, never live ORM objects.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from segstudio.core.classes import ClassInfo, ClassTable, parse_color
from segstudio.core.errors import ProjectError
from segstudio.core.fingerprint import Fingerprint, ImageFingerprint, summarize
from segstudio.core.statuses import ImageStatus, RunStatus
from segstudio.store.models import (
    ClassCountRow,
    ClassRow,
    EpochRow,
    FingerprintRow,
    ImageRow,
    ModelRow,
    RunRow,
    SettingRow,
    utcnow,
)
from segstudio.store.schema import open_engine

DB_NAME = "segstudio.db"
SPLITS = ("train", "val", "test")
STATUSES = tuple(ImageStatus)


@dataclass(frozen=True)
class ImageRecord:
    id: int
    path: str
    mask_path: str | None
    abs_path: Path
    abs_mask_path: Path | None
    mask_format: str | None
    width: int
    height: int
    channels: int
    split: str
    status: str
    ignored_pixels: int
    indexed_mask_bytes: int | None
    indexed_mask_mtime: float | None

    @property
    def labelled(self) -> bool:
        return self.mask_path is not None


@dataclass
class ClassTotals:
    """Per-class sums over a set of labelled images (index = class id)."""

    pixels: np.ndarray
    images: np.ndarray
    pixels_of_images_with_class: np.ndarray
    ignored: int
    n_images: int
    n_labelled: int


@dataclass(frozen=True)
class EpochRecord:
    run_id: int
    epoch: int
    train_loss: float | None
    val_loss: float | None
    fg_miou: float | None
    pixel_accuracy: float | None
    per_class_iou: list[float | None]
    alarm: str | None
    seconds: float | None
    adjustment: str | None = None  # what the trainer changed after this epoch's alarm
    val_pixels: list[int] = field(default_factory=list)  # validation pixels per class


@dataclass(frozen=True)
class RunRecord:
    id: int
    created_at: Any
    finished_at: Any
    status: str
    config: dict
    class_weights: list[float]
    checkpoint_path: str | None
    model_path: str | None
    best_fg_miou: float | None
    message: str | None
    parent_run_id: int | None


@dataclass(frozen=True)
class ModelRecord:
    id: int
    run_id: int | None
    path: str
    format: str
    created_at: Any
    card: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CountUpdate:
    image_id: int
    pixels: np.ndarray  # per class id
    ignored: int
    mask_bytes: int
    mask_mtime: float
    fingerprint: ImageFingerprint | None = None  # stored with the counts, replaced together


def _clean_float(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if x != x or x in (float("inf"), float("-inf")) else x


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: never mark a live run
    return True


class Project:
    """Open with :meth:`open` or :meth:`create`; close when done (or use as a context manager)."""

    def __init__(self, root: Path, engine) -> None:
        self.root = root
        self.db_path = root / DB_NAME
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- lifecycle ---------------------------------------------------------
    @classmethod
    def create(cls, folder: str | Path) -> Project:
        root = Path(folder).expanduser().resolve()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProjectError(f"{root}: cannot create the project folder ({e.strerror or e})") from None
        return cls(root, open_engine(root / DB_NAME, create=True))

    @classmethod
    def open(cls, folder: str | Path) -> Project:
        root = Path(folder).expanduser().resolve()
        if root.is_file() and root.name == DB_NAME:
            root = root.parent
        if not root.is_dir():
            raise ProjectError(f"{root}: project folder not found")
        project = cls(root, open_engine(root / DB_NAME, create=False))
        from segstudio.store.folders import sweep_stale_temps  # it imports this module

        sweep_stale_temps(project)  # what writers killed mid-save left behind
        return project

    @staticmethod
    def exists(folder: str | Path) -> bool:
        return (Path(folder) / DB_NAME).is_file()

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self) -> Session:
        return self._sessions()

    # -- paths -------------------------------------------------------------
    def relativize(self, path: str | Path) -> str:
        """Path relative to the project folder when it is inside it (or near it), else absolute."""
        p = Path(path).expanduser().resolve()
        try:
            rel = os.path.relpath(p, self.root)
        except ValueError:  # another drive on Windows
            return p.as_posix()
        if Path(rel).parts.count("..") > 3:  # far outside: an absolute path is clearer
            return p.as_posix()
        return Path(rel).as_posix()

    def resolve(self, rel: str | Path) -> Path:
        """Absolute path of a stored path (lexical: no filesystem calls, it runs per image)."""
        p = str(rel)
        return Path(p if os.path.isabs(p) else os.path.normpath(os.path.join(self.root, p)))

    # -- classes -----------------------------------------------------------
    def class_table(self) -> ClassTable:
        with self.session() as s:
            rows = s.scalars(select(ClassRow).order_by(ClassRow.id)).all()
            return ClassTable([ClassInfo(r.id, r.name, parse_color(r.color), r.ignore) for r in rows])

    def set_class_table(self, table: ClassTable) -> None:
        with self.session() as s, s.begin():
            s.execute(delete(ClassRow))
            for c in table:
                s.add(ClassRow(id=c.id, name=c.name, color=c.hex, ignore=c.ignore))

    def set_class(self, info: ClassInfo) -> None:
        with self.session() as s, s.begin():
            s.merge(ClassRow(id=info.id, name=info.name, color=info.hex, ignore=info.ignore))

    # -- images ------------------------------------------------------------
    def _record(self, r: ImageRow) -> ImageRecord:
        return ImageRecord(
            id=r.id,
            path=r.path,
            mask_path=r.mask_path,
            abs_path=self.resolve(r.path),
            abs_mask_path=self.resolve(r.mask_path) if r.mask_path else None,
            mask_format=r.mask_format,
            width=r.width,
            height=r.height,
            channels=r.channels,
            split=r.split,
            status=r.status,
            ignored_pixels=r.ignored_pixels,
            indexed_mask_bytes=r.indexed_mask_bytes,
            indexed_mask_mtime=r.indexed_mask_mtime,
        )

    def add_image(
        self,
        path: str | Path,
        width: int,
        height: int,
        *,
        channels: int = 1,
        mask_path: str | Path | None = None,
        mask_format: str | None = None,
        split: str = "train",
        image_bytes: int = 0,
        image_mtime: float = 0.0,
    ) -> int:
        """Add an image, or update it if its path is already in the project. Returns its id."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}")
        rel = self.relativize(path)
        mrel = self.relativize(mask_path) if mask_path else None
        with self.session() as s, s.begin():
            row = s.scalar(select(ImageRow).where(ImageRow.path == rel))
            if row is None:
                row = ImageRow(path=rel, width=width, height=height, split=split)
                s.add(row)
            row.width, row.height, row.channels = width, height, channels
            row.image_bytes, row.image_mtime = image_bytes, image_mtime
            row.mask_path, row.mask_format = mrel, mask_format
            row.status = "labelled" if mrel else "unlabelled"
            s.flush()
            return row.id

    def images(self, split: str | None = None, labelled_only: bool = False) -> list[ImageRecord]:
        q = select(ImageRow).order_by(ImageRow.path)
        if split is not None:
            q = q.where(ImageRow.split == split)
        if labelled_only:
            q = q.where(ImageRow.mask_path.is_not(None))
        with self.session() as s:
            return [self._record(r) for r in s.scalars(q)]

    def image(self, image_id: int) -> ImageRecord:
        with self.session() as s:
            r = s.get(ImageRow, image_id)
            if r is None:
                raise ProjectError(f"no image with id {image_id} in {self.db_path}")
            return self._record(r)

    def set_mask_path(self, image_id: int, mask_path: str | Path | None, fmt: str | None) -> None:
        with self.session() as s, s.begin():
            r = s.get(ImageRow, image_id)
            if r is None:
                raise ProjectError(f"no image with id {image_id}")
            r.mask_path = self.relativize(mask_path) if mask_path else None
            r.mask_format = fmt
            if r.mask_path and r.status == "unlabelled":
                r.status = "labelled"

    def set_status(self, image_id: int, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        with self.session() as s, s.begin():
            s.execute(update(ImageRow).where(ImageRow.id == image_id).values(status=status))

    def set_split(self, image_ids: Iterable[int], split: str) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}")
        with self.session() as s, s.begin():
            s.execute(update(ImageRow).where(ImageRow.id.in_(list(image_ids))).values(split=split))

    def remove_image(self, image_id: int) -> None:
        with self.session() as s, s.begin():
            s.execute(delete(ImageRow).where(ImageRow.id == image_id))

    # -- class counts --------------------------------------------------------
    def set_counts(self, updates: Sequence[CountUpdate]) -> None:
        """Replace the stored counts of these images in one transaction."""
        if not updates:
            return
        ids = [u.image_id for u in updates]
        rows = []
        for u in updates:
            nz = np.flatnonzero(u.pixels)
            rows.extend(
                {"image_id": u.image_id, "class_id": int(c), "pixels": int(u.pixels[c])} for c in nz
            )
        with self.session() as s, s.begin():
            for chunk in range(0, len(ids), 500):
                part = ids[chunk : chunk + 500]
                s.execute(delete(ClassCountRow).where(ClassCountRow.image_id.in_(part)))
                s.execute(delete(FingerprintRow).where(FingerprintRow.image_id.in_(part)))
            prints = [{"image_id": u.image_id, "data": u.fingerprint.to_json()}
                      for u in updates if u.fingerprint is not None]
            if prints:
                s.execute(insert(FingerprintRow.__table__), prints)
            if rows:
                s.execute(insert(ClassCountRow.__table__), rows)  # Core executemany: no ORM bookkeeping
            s.execute(
                update(ImageRow),
                [
                    {
                        "id": u.image_id,
                        "ignored_pixels": int(u.ignored),
                        "indexed_mask_bytes": int(u.mask_bytes),
                        "indexed_mask_mtime": float(u.mask_mtime),
                    }
                    for u in updates
                ],
            )

    def clear_counts(self, image_id: int) -> None:
        with self.session() as s, s.begin():
            s.execute(delete(ClassCountRow).where(ClassCountRow.image_id == image_id))
            s.execute(delete(FingerprintRow).where(FingerprintRow.image_id == image_id))
            s.execute(
                update(ImageRow)
                .where(ImageRow.id == image_id)
                .values(ignored_pixels=0, indexed_mask_bytes=None, indexed_mask_mtime=None)
            )

    def image_class_counts(self, image_id: int) -> dict[int, int]:
        with self.session() as s:
            q = select(ClassCountRow.class_id, ClassCountRow.pixels).where(
                ClassCountRow.image_id == image_id
            )
            return {int(c): int(p) for c, p in s.execute(q)}

    def images_with_class(self, class_id: int) -> set[int]:
        with self.session() as s:
            q = select(ClassCountRow.image_id).where(
                ClassCountRow.class_id == class_id, ClassCountRow.pixels > 0
            )
            return set(s.scalars(q))

    def counts_matrix(
        self, split: str | None = None, labelled_only: bool = True, num_classes: int | None = None
    ) -> tuple[list[int], np.ndarray]:
        """(image ids, [n_images, num_classes] int64 pixel counts), ordered by image path."""
        recs = self.images(split=split, labelled_only=labelled_only)
        ids = [r.id for r in recs]
        C = num_classes if num_classes is not None else max(self.class_table().num_classes, 1)
        mat = np.zeros((len(ids), C), dtype=np.int64)
        if not ids:
            return ids, mat
        pos = {i: k for k, i in enumerate(ids)}
        q = select(ClassCountRow.image_id, ClassCountRow.class_id, ClassCountRow.pixels)
        if split is not None:
            q = q.join(ImageRow, ImageRow.id == ClassCountRow.image_id).where(ImageRow.split == split)
        with self.session() as s:
            data = np.array(s.execute(q).all(), dtype=np.int64).reshape(-1, 3)
        if data.size:
            keep = np.array([i in pos for i in data[:, 0]]) & (data[:, 1] < C)
            data = data[keep]
            rows = np.fromiter((pos[i] for i in data[:, 0]), dtype=np.int64, count=len(data))
            np.add.at(mat, (rows, data[:, 1]), data[:, 2])
        return ids, mat

    def class_totals(self, split: str | None = None) -> ClassTotals:
        recs = self.images(split=split)
        labelled = [r for r in recs if r.labelled]
        _, mat = self.counts_matrix(split=split)
        area = np.array([r.width * r.height for r in labelled], dtype=np.int64)
        has = mat > 0
        return ClassTotals(
            pixels=mat.sum(0),
            images=has.sum(0),
            pixels_of_images_with_class=(has * area[:, None]).sum(0) if len(area) else mat.sum(0),
            ignored=int(sum(r.ignored_pixels for r in labelled)),
            n_images=len(recs),
            n_labelled=len(labelled),
        )

    # -- fingerprint ---------------------------------------------------------
    def image_fingerprints(self, split: str | None = None) -> list[ImageFingerprint]:
        q = select(FingerprintRow.image_id, FingerprintRow.data)
        if split is not None:
            q = q.join(ImageRow, ImageRow.id == FingerprintRow.image_id).where(ImageRow.split == split)
        with self.session() as s:
            return [ImageFingerprint.from_json(i, d) for i, d in s.execute(q)]

    def fingerprinted_ids(self) -> set[int]:
        with self.session() as s:
            return set(s.scalars(select(FingerprintRow.image_id)))

    def fingerprint(self, split: str | None = "train") -> Fingerprint:
        """The labelled images of ``split`` (None: all) summarised for the training plan."""
        table = self.class_table()
        recs = [r for r in self.images(split=split) if r.labelled]
        totals = self.class_totals(split)
        return summarize(
            ((r.width, r.height, r.channels) for r in recs), totals.pixels, totals.images,
            self.image_fingerprints(split), {c.id: c.name for c in table}, table.trainable_ids,
        )

    # -- settings ----------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        with self.session() as s:
            row = s.get(SettingRow, key)
            return row.value.get("v", default) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        with self.session() as s, s.begin():
            s.merge(SettingRow(key=key, value={"v": value}))

    # -- training runs -----------------------------------------------------
    def create_run(
        self, config: dict, class_weights: Sequence[float], parent_run_id: int | None = None
    ) -> int:
        with self.session() as s, s.begin():
            row = RunRow(
                config=dict(config),
                class_weights=[float(w) for w in class_weights],
                parent_run_id=parent_run_id,
                status=RunStatus.RUNNING,
                process_id=os.getpid(),
                host=socket.gethostname(),
                message=f"running in process {os.getpid()} on {socket.gethostname()}",
            )
            s.add(row)
            s.flush()
            return row.id

    def add_epoch(
        self,
        run_id: int,
        epoch: int,
        train_loss: float | None = None,
        val_loss: float | None = None,
        fg_miou: float | None = None,
        pixel_accuracy: float | None = None,
        per_class_iou: Sequence[float | None] = (),
        alarm: str | None = None,
        seconds: float | None = None,
        adjustment: str | None = None,
        val_pixels: Sequence[int] = (),
    ) -> None:
        with self.session() as s, s.begin():
            s.merge(
                EpochRow(
                    run_id=run_id,
                    epoch=epoch,
                    train_loss=_clean_float(train_loss),
                    val_loss=_clean_float(val_loss),
                    fg_miou=_clean_float(fg_miou),
                    pixel_accuracy=_clean_float(pixel_accuracy),
                    per_class_iou=[_clean_float(v) for v in per_class_iou],
                    alarm=alarm,
                    seconds=_clean_float(seconds),
                    adjustment=adjustment,
                    val_pixels=[int(v) for v in val_pixels],
                )
            )
            fg = _clean_float(fg_miou)
            if fg is not None:
                run = s.get(RunRow, run_id)
                if run is not None and (run.best_fg_miou is None or fg > run.best_fg_miou):
                    run.best_fg_miou = fg

    def finish_run(
        self,
        run_id: int,
        status: str,
        message: str | None = None,
        model_path: str | Path | None = None,
        checkpoint_path: str | Path | None = None,
        best_fg_miou: float | None = None,
    ) -> None:
        with self.session() as s, s.begin():
            run = s.get(RunRow, run_id)
            if run is None:
                raise ProjectError(f"no training run {run_id}")
            run.status, run.message, run.finished_at = status, message, utcnow()
            if model_path is not None:
                run.model_path = str(model_path)
            if checkpoint_path is not None:
                run.checkpoint_path = str(checkpoint_path)
            if best_fg_miou is not None:
                run.best_fg_miou = _clean_float(best_fg_miou)

    def update_run(self, run_id: int, **fields: Any) -> None:
        allowed = {"checkpoint_path", "model_path", "status", "message", "config", "process_id", "host"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update {bad}")
        with self.session() as s, s.begin():
            s.execute(update(RunRow).where(RunRow.id == run_id).values(**fields))

    @staticmethod
    def _run(r: RunRow) -> RunRecord:
        return RunRecord(
            r.id, r.created_at, r.finished_at, r.status, dict(r.config or {}),
            list(r.class_weights or []), r.checkpoint_path, r.model_path, r.best_fg_miou,
            r.message, r.parent_run_id,
        )

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first (a read: see :meth:`mark_interrupted_runs`)."""
        with self.session() as s:
            return [self._run(r) for r in s.scalars(select(RunRow).order_by(RunRow.id))]

    def mark_interrupted_runs(self) -> list[int]:
        """Runs still 'running' whose process on this machine is gone become 'interrupted'.

        A killed or crashed trainer cannot record its own end; its last checkpoint stays.
        Runs owned by another machine are left alone (we cannot see their processes).
        Whoever shows runs calls this first (the GUI when it lists them); reads never write.
        """
        here = socket.gethostname()
        dead = []
        with self.session() as s, s.begin():
            for run in s.scalars(select(RunRow).where(RunRow.status == RunStatus.RUNNING)):
                if run.host == here and run.process_id is not None and not _process_alive(run.process_id):
                    run.status, run.finished_at = RunStatus.INTERRUPTED, utcnow()
                    run.message = (
                        "the training process ended without finishing (killed or crashed); "
                        "the last checkpoint is kept"
                    )
                    dead.append(run.id)
        return dead

    def run(self, run_id: int) -> RunRecord:
        with self.session() as s:
            r = s.get(RunRow, run_id)
            if r is None:
                raise ProjectError(f"no training run {run_id} in {self.db_path}")
            return self._run(r)

    def epochs(self, run_id: int) -> list[EpochRecord]:
        with self.session() as s:
            q = select(EpochRow).where(EpochRow.run_id == run_id).order_by(EpochRow.epoch)
            return [
                EpochRecord(
                    e.run_id, e.epoch, e.train_loss, e.val_loss, e.fg_miou, e.pixel_accuracy,
                    list(e.per_class_iou or []), e.alarm, e.seconds, e.adjustment,
                    list(e.val_pixels or []),
                )
                for e in s.scalars(q)
            ]

    # -- models ------------------------------------------------------------
    def add_model(self, run_id: int | None, path: str | Path, fmt: str, card: dict) -> int:
        with self.session() as s, s.begin():
            row = ModelRow(run_id=run_id, path=str(path), format=fmt, card=dict(card))
            s.add(row)
            s.flush()
            return row.id

    def models(self) -> list[ModelRecord]:
        with self.session() as s:
            return [
                ModelRecord(m.id, m.run_id, m.path, m.format, m.created_at, dict(m.card or {}))
                for m in s.scalars(select(ModelRow).order_by(ModelRow.id))
            ]

    def image_count(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(ImageRow)) or 0)
