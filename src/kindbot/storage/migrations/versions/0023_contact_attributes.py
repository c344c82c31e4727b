"""contact attributes: declared per tenant, typed values per contact; directory indexes

``attribute_definitions`` holds each tenant's declared custom attributes (the
bundle's ``tenant.attributes``); ``contact_attributes`` one typed value per
contact and attribute (``value_number`` is NUMERIC(18, 6) on PostgreSQL and
integer millionths on SQLite: exact on both). Messages and deferred sends gain
a contact index (a contact's timeline and "last active"; export and erasure),
contacts a tenant index (the contact list).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attribute_definitions",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_attribute_definitions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_attribute_definitions")),
    )
    op.create_table(
        "contact_attributes",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value_text", sa.String(length=500), nullable=True),
        sa.Column(
            "value_number",
            sa.Numeric(precision=18, scale=6).with_variant(sa.BigInteger(), "sqlite"),
            nullable=True,
        ),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contact_attributes_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_attributes_contact_id_contacts"),
        ),
        sa.PrimaryKeyConstraint("contact_id", "name", name=op.f("pk_contact_attributes")),
    )
    op.create_index(
        "ix_contact_attributes_tenant_name", "contact_attributes", ["tenant_id", "name"]
    )
    op.create_index(
        "ix_messages_contact_direction_at", "messages", ["contact_id", "direction", "created_at"]
    )
    op.create_index("ix_deferred_sends_contact", "deferred_sends", ["contact_id", "created_at"])
    op.create_index("ix_contacts_tenant_created", "contacts", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_contacts_tenant_created", table_name="contacts")
    op.drop_index("ix_deferred_sends_contact", table_name="deferred_sends")
    op.drop_index("ix_messages_contact_direction_at", table_name="messages")
    op.drop_index("ix_contact_attributes_tenant_name", table_name="contact_attributes")
    op.drop_table("contact_attributes")
    op.drop_table("attribute_definitions")
