"""admin: supplier status, runtime settings, admin list indexes

Revision ID: 0011_admin
Revises: 0010_uploads
Create Date: 2026-12-02 22:55:32.687940

"""
from alembic import op
import sqlalchemy as sa


# As app.auth.models.SEARCH_TEXT when this migration was written.
SEARCH_TEXT = "lower(email || ' ' || first_name || ' ' || last_name || ' ' || coalesce(phone, ''))"

# revision identifiers, used by Alembic.
revision = '0011_admin'
down_revision = '0010_uploads'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # the user search's trigram indexes (a trusted extension: the owner may create it)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('settings_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settings_version'))
    )
    op.create_table('setting_overrides',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_setting_overrides_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting_overrides'))
    )
    with op.batch_alter_table('order_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_status_history_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_county_created', ['delivery_county', 'created_at'], unique=False)
        batch_op.create_index('ix_orders_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_method_created', ['payment_method', 'created_at'], unique=False)

    with op.batch_alter_table('supplier_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('PENDING', 'APPROVED', 'REJECTED', 'SUSPENDED', name='supplierstatus', native_enum=False, length=32), server_default='PENDING', nullable=False))
        batch_op.add_column(sa.Column('status_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_supplier_profiles_status_created', ['status', 'created_at'], unique=False)

    # Existing suppliers: approved ones are APPROVED, the others wait (PENDING).
    op.execute("UPDATE supplier_profiles SET status = 'APPROVED' WHERE is_approved")
    with op.batch_alter_table('supplier_profiles', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_supplier_profiles_approved_iff_status_approved'),
            "is_approved = (status = 'APPROVED')",
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_role'))
        batch_op.create_index('ix_users_active_created', ['is_active', 'created_at'], unique=False)
        batch_op.create_index('ix_users_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_users_role_created', ['role', 'created_at'], unique=False)

    # The admin search's column. SQLite cannot add a STORED generated column to a table
    # (ALTER TABLE ADD COLUMN): there it is VIRTUAL, computed alike when read.
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), sa.Computed(SEARCH_TEXT, persisted=postgresql), nullable=True))
        batch_op.create_index('ix_users_search_text_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_role_created')
        batch_op.drop_index('ix_users_search_text_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_column('search_text')
        batch_op.drop_index('ix_users_created')
        batch_op.drop_index('ix_users_active_created')
        batch_op.create_index(batch_op.f('ix_users_role'), ['role'], unique=False)

    with op.batch_alter_table('supplier_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_supplier_profiles_approved_iff_status_approved'), type_='check'
        )
        batch_op.drop_index('ix_supplier_profiles_status_created')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status_reason')
        batch_op.drop_column('status')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_method_created')
        batch_op.drop_index('ix_orders_created')
        batch_op.drop_index('ix_orders_county_created')

    with op.batch_alter_table('order_status_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_status_history_created_at'))

    op.drop_table('setting_overrides')
    op.drop_table('settings_version')
