"""segments: saved, named contact filters (issue 16 §3); indexes they are evaluated with

``segments`` holds each tenant's saved definitions (unique by name; canonical
JSON). Membership is evaluated in SQL when asked, helped by two indexes:
``messages (contact_id, direction, created_at)`` (a contact's inbound messages
in time order: last inbound, first seen) and ``contact_tags (tenant_id, tag,
contact_id)``, which replaces ``(tenant_id, tag)`` so a tag's contacts come
from the index alone.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_segments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_segments_tenant_id_name")),
    )
    op.create_index(
        "ix_contact_tags_tenant_tag_contact", "contact_tags", ["tenant_id", "tag", "contact_id"]
    )
    op.drop_index("ix_contact_tags_tenant_tag", table_name="contact_tags")


def downgrade() -> None:
    op.create_index("ix_contact_tags_tenant_tag", "contact_tags", ["tenant_id", "tag"])
    op.drop_index("ix_contact_tags_tenant_tag_contact", table_name="contact_tags")
    op.drop_table("segments")
