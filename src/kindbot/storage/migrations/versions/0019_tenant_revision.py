"""tenants.revision: bumped by every write that changes what processes cache of a tenant

Each process keeps the tenant, its channels (opened configurations), flow
definitions and knowledge-base version in memory (``pipeline/tenant_cache.py``);
a message's store transaction reads this number in a statement it runs anyway
and re-reads what changed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("revision")
