"""Cached predictions with review scores, and per-image corrected-pixel records.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("training_runs.id", ondelete="SET NULL")),
        sa.Column("model_path", sa.String, nullable=False),
        sa.Column("path", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("mean_confidence", sa.Float, nullable=False),
        sa.Column("rare_uncertainty", sa.Float, nullable=False),
        sa.Column("rare_pixels", sa.Integer, nullable=False),
        sa.Column("disagreement", sa.Float),
        sa.Column("score", sa.Float, nullable=False),
    )
    op.create_table(
        "corrections",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("path", sa.String, nullable=False),
        sa.Column("pixels", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("applied_run_id", sa.Integer, sa.ForeignKey("training_runs.id", ondelete="SET NULL")),
    )


def downgrade() -> None:
    op.drop_table("corrections")
    op.drop_table("predictions")
