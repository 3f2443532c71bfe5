"""drop analytics_sales: no figure read it (the breakdowns are rebuilt from the items)

Revision ID: 0015_drop_sales_rollup
Revises: 0014_admin_indexes
Create Date: 2026-12-03 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_drop_sales_rollup'
down_revision = '0014_admin_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('analytics_sales')


def downgrade():
    # empty again: `flask analytics rebuild` of the release that reads it refills it
    op.create_table('analytics_sales',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('payment_method', sa.String(length=16), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('gmv', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('commission', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'bucket', 'supplier_id', 'category_id', 'payment_method', name=op.f('pk_analytics_sales'))
    )
