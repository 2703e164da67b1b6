"""Initial schema: classes, images, per-image class counts, training runs, epochs, models.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("color", sa.String(7), nullable=False),
        sa.Column("ignore", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String, nullable=False, unique=True),
        sa.Column("mask_path", sa.String),
        sa.Column("mask_format", sa.String(16)),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("channels", sa.Integer, nullable=False, server_default="1"),
        sa.Column("image_bytes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("image_mtime", sa.Float, nullable=False, server_default="0"),
        sa.Column("indexed_mask_bytes", sa.Integer),
        sa.Column("indexed_mask_mtime", sa.Float),
        sa.Column("ignored_pixels", sa.Integer, nullable=False, server_default="0"),
        sa.Column("split", sa.String(8), nullable=False, server_default="train"),
        sa.Column("status", sa.String(16), nullable=False, server_default="unlabelled"),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_images_split", "images", ["split"])
    op.create_table(
        "class_counts",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("class_id", sa.Integer, primary_key=True),
        sa.Column("pixels", sa.Integer, nullable=False),
    )
    op.create_index("ix_class_counts_class", "class_counts", ["class_id"])
    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("class_weights", sa.JSON, nullable=False),
        sa.Column("checkpoint_path", sa.String),
        sa.Column("model_path", sa.String),
        sa.Column("best_fg_miou", sa.Float),
        sa.Column("message", sa.Text),
        sa.Column("parent_run_id", sa.Integer, sa.ForeignKey("training_runs.id", ondelete="SET NULL")),
    )
    op.create_table(
        "epoch_metrics",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("training_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("train_loss", sa.Float),
        sa.Column("val_loss", sa.Float),
        sa.Column("fg_miou", sa.Float),
        sa.Column("pixel_accuracy", sa.Float),
        sa.Column("per_class_iou", sa.JSON, nullable=False),
        sa.Column("alarm", sa.String),
        sa.Column("seconds", sa.Float),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("training_runs.id", ondelete="SET NULL")),
        sa.Column("path", sa.String, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("card", sa.JSON, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("settings", "models", "epoch_metrics", "training_runs", "class_counts", "images", "classes"):
        op.drop_table(table)
