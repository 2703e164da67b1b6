"""Training runs record the process and host that run them in columns (they were parsed
from the message text); running rows get theirs from that text.

Revision ID: 0004
Revises: 0003
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OWNER = re.compile(r"running in process (\d+) on (.+)")


def upgrade() -> None:
    with op.batch_alter_table("training_runs") as batch:
        batch.add_column(sa.Column("process_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("host", sa.String, nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, message FROM training_runs WHERE status = 'running'")).fetchall()
    for run_id, message in rows:
        m = _OWNER.fullmatch(message or "")
        if m:
            conn.execute(sa.text("UPDATE training_runs SET process_id = :pid, host = :host WHERE id = :id"),
                         {"pid": int(m.group(1)), "host": m.group(2), "id": run_id})


def downgrade() -> None:
    with op.batch_alter_table("training_runs") as batch:
        batch.drop_column("host")
        batch.drop_column("process_id")
