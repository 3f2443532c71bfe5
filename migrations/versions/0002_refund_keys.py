"""refunds keyed by their own idempotency key, many per payment

Revision ID: 0002_refund_keys
Revises: 0001
Create Date: 2026-12-02 19:00:00

Replaces the unique (payment_id, cause) with a unique ``key``. Existing rows get the
key the code now derives: ``cancel:<order id>`` for a cancellation, otherwise
``<cause, lower-case, dashes>:<payment id>``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_refund_keys"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=100), nullable=True))
    op.execute(
        """UPDATE refunds SET "key" = CASE WHEN cause = 'ORDER_CANCELLED' """
        "THEN 'cancel:' || CAST(order_id AS VARCHAR) "
        "ELSE COALESCE(REPLACE(LOWER(cause), '_', '-') || ':' || CAST(payment_id AS VARCHAR), "
        "'refund:' || CAST(id AS VARCHAR)) END"
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_constraint("uq_refunds_payment_cause", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_refunds_key"), ["key"])


def downgrade():
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_refunds_key"), type_="unique")
        batch_op.create_unique_constraint("uq_refunds_payment_cause", ["payment_id", "cause"])
        batch_op.drop_column("key")
