"""admin indexes: each bucket's members by sales (the top-N rankings) and the order
number's trigrams (the admin order search)

Revision ID: 0014_admin_indexes
Revises: 0013_order_notes
Create Date: 2026-12-03 03:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_admin_indexes'
down_revision = '0013_order_notes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analytics_breakdowns', schema=None) as batch_op:
        batch_op.create_index(
            'ix_analytics_breakdowns_ranking',
            ['dimension', 'grain', 'bucket', 'gmv', 'member'],
            unique=False,
            postgresql_include=['items'],
        )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(
            'ix_orders_order_number_trgm',
            ['order_number'],
            unique=False,
            postgresql_using='gin',
            postgresql_ops={'order_number': 'gin_trgm_ops'},
        )


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_orders_order_number_trgm',
            postgresql_using='gin',
            postgresql_ops={'order_number': 'gin_trgm_ops'},
        )
    with op.batch_alter_table('analytics_breakdowns', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_breakdowns_ranking')
