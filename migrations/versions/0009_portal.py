"""supplier portal: payout number requests, terms acceptance IP, orders by delivery time

Revision ID: 0009_portal
Revises: 0008_delivery
Create Date: 2026-12-02 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_portal'
down_revision = '0008_delivery'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'PENDING'")
DELIVERED = sa.text("delivered_at IS NOT NULL")


def upgrade():
    op.create_table('payout_number_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party', sa.Enum('SUPPLIER', 'AGENT', name='party', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('old_number', sa.String(length=12), nullable=False),
    sa.Column('new_number', sa.String(length=12), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED', 'SUPERSEDED', name='requeststatus', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_payout_number_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payout_number_requests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_number_requests'))
    )
    with op.batch_alter_table('payout_number_requests', schema=None) as batch_op:
        batch_op.create_index('ix_payout_number_requests_party', ['party', 'party_id', 'id'], unique=False)
        batch_op.create_index('ix_payout_number_requests_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_number_requests_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_payout_number_requests_one_pending', ['party', 'party_id'], unique=True, postgresql_where=PENDING, sqlite_where=PENDING)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_delivered_at', ['delivered_at'], unique=False, postgresql_where=DELIVERED, sqlite_where=DELIVERED)

    with op.batch_alter_table('supplier_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_accepted_ip', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('supplier_profiles', schema=None) as batch_op:
        batch_op.drop_column('terms_accepted_ip')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_delivered_at', postgresql_where=DELIVERED, sqlite_where=DELIVERED)

    with op.batch_alter_table('payout_number_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_payout_number_requests_one_pending', postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.drop_index(batch_op.f('ix_payout_number_requests_user_id'))
        batch_op.drop_index('ix_payout_number_requests_status_created')
        batch_op.drop_index('ix_payout_number_requests_party')

    op.drop_table('payout_number_requests')
