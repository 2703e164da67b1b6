"""ORM tables of a project database (``segstudio.db``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class ClassRow(Base):
    __tablename__ = "classes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    color: Mapped[str] = mapped_column(String(7))  # '#rrggbb'
    ignore: Mapped[bool] = mapped_column(default=False)


class ImageRow(Base):
    __tablename__ = "images"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String, unique=True)  # relative to the project when possible
    mask_path: Mapped[str | None] = mapped_column(String, default=None)
    mask_format: Mapped[str | None] = mapped_column(String(16), default=None)
    width: Mapped[int]
    height: Mapped[int]
    channels: Mapped[int] = mapped_column(default=1)
    image_bytes: Mapped[int] = mapped_column(default=0)
    image_mtime: Mapped[float] = mapped_column(Float, default=0.0)
    # size/mtime of the mask when it was last counted: re-index skips masks that match
    indexed_mask_bytes: Mapped[int | None] = mapped_column(default=None)
    indexed_mask_mtime: Mapped[float | None] = mapped_column(Float, default=None)
    ignored_pixels: Mapped[int] = mapped_column(default=0)
    split: Mapped[str] = mapped_column(String(8), default="train", index=True)  # ix_images_split
    status: Mapped[str] = mapped_column(String(16), default="unlabelled")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClassCountRow(Base):
    __tablename__ = "class_counts"
    __table_args__ = (Index("ix_class_counts_class", "class_id"),)  # as in migration 0001
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(primary_key=True)
    pixels: Mapped[int]


class RunRow(Base):
    __tablename__ = "training_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    class_weights: Mapped[list[Any]] = mapped_column(default=list)
    checkpoint_path: Mapped[str | None] = mapped_column(String, default=None)
    model_path: Mapped[str | None] = mapped_column(String, default=None)
    best_fg_miou: Mapped[float | None] = mapped_column(Float, default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    parent_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_runs.id", ondelete="SET NULL"), default=None
    )
    # who runs it, so a run whose process died can be told from a live one
    process_id: Mapped[int | None] = mapped_column(Integer, default=None)
    host: Mapped[str | None] = mapped_column(String, default=None)


class EpochRow(Base):
    __tablename__ = "epoch_metrics"
    run_id: Mapped[int] = mapped_column(
        ForeignKey("training_runs.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(primary_key=True)
    train_loss: Mapped[float | None] = mapped_column(Float, default=None)
    val_loss: Mapped[float | None] = mapped_column(Float, default=None)
    fg_miou: Mapped[float | None] = mapped_column(Float, default=None)
    pixel_accuracy: Mapped[float | None] = mapped_column(Float, default=None)
    per_class_iou: Mapped[list[Any]] = mapped_column(default=list)
    alarm: Mapped[str | None] = mapped_column(String, default=None)
    seconds: Mapped[float | None] = mapped_column(Float, default=None)
    adjustment: Mapped[str | None] = mapped_column(String, default=None)  # migration 0003
    val_pixels: Mapped[list[Any]] = mapped_column(default=list)  # per class; migration 0003


class ModelRow(Base):
    __tablename__ = "models"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_runs.id", ondelete="SET NULL"), default=None
    )
    path: Mapped[str] = mapped_column(String)
    format: Mapped[str] = mapped_column(String(16), default="keras")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    card: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SettingRow(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PredictionRow(Base):
    """The cached prediction of an image (class map + confidence in ``path``) and its review scores."""

    __tablename__ = "predictions"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_runs.id", ondelete="SET NULL"), default=None
    )
    model_path: Mapped[str] = mapped_column(String)
    path: Mapped[str] = mapped_column(String)  # .npz relative to the project
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mean_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    rare_uncertainty: Mapped[float] = mapped_column(Float, default=0.0)
    rare_pixels: Mapped[int] = mapped_column(default=0)
    disagreement: Mapped[float | None] = mapped_column(Float, default=None)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    views: Mapped[int] = mapped_column(default=1, server_default="1")  # test-time views averaged


class CorrectionRow(Base):
    """Pixels the user corrected on an image (bit mask in ``path``); pending until a run uses them."""

    __tablename__ = "corrections"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String)  # .npz relative to the project
    pixels: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_runs.id", ondelete="SET NULL"), default=None
    )


class FingerprintRow(Base):
    """One image's measured fingerprint (``core.fingerprint.ImageFingerprint.to_json``)."""

    __tablename__ = "image_fingerprints"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
