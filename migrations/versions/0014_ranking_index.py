"""analytics ranking index: each bucket's members by sales, for the top-N rankings

Revision ID: 0014_ranking_index
Revises: 0013_order_notes
Create Date: 2026-12-03 03:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_ranking_index'
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


def downgrade():
    with op.batch_alter_table('analytics_breakdowns', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_breakdowns_ranking')
