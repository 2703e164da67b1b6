"""Per-image fingerprints (objects per class, extent histograms, intensity percentiles);
per-epoch self-correction notes and validation pixels per class.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_fingerprints",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
    )
    with op.batch_alter_table("epoch_metrics") as batch:
        batch.add_column(sa.Column("adjustment", sa.String, nullable=True))
        batch.add_column(sa.Column("val_pixels", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("epoch_metrics") as batch:
        batch.drop_column("val_pixels")
        batch.drop_column("adjustment")
    op.drop_table("image_fingerprints")
