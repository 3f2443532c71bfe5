"""uploads table; the email outbox's retry columns

Revision ID: 0010_uploads
Revises: 0009_portal
Create Date: 2026-12-02 22:54:56.130703

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_uploads'
down_revision = '0009_portal'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('PRODUCT', 'RETURN', 'BRAND', 'PROFILE', name='uploadkind', native_enum=False, length=32), nullable=False),
    sa.Column('storage', sa.String(length=16), nullable=False),
    sa.Column('public_id', sa.String(length=255), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('thumbnail_url', sa.String(length=500), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('attached_to', sa.String(length=64), nullable=True),
    sa.Column('attached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_uploads_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('public_id', name=op.f('uq_uploads_public_id')),
    sa.UniqueConstraint('url', name=op.f('uq_uploads_url'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_attached_to'), ['attached_to'], unique=False)
        batch_op.create_index('ix_uploads_orphans', ['created_at'], unique=False, postgresql_where=sa.text('attached_to IS NULL'), sqlite_where=sa.text('attached_to IS NULL'))
        batch_op.create_index(batch_op.f('ix_uploads_owner_id'), ['owner_id'], unique=False)

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('error', new_column_name='last_error',
               existing_type=sa.String(length=500), existing_nullable=True)
        batch_op.alter_column('status',
               existing_type=sa.VARCHAR(length=16),
               type_=sa.Enum('QUEUED', 'SENDING', 'SENT', 'LOGGED', 'FAILED', 'DEAD', name='outboxstatus', native_enum=False, length=32),
               existing_nullable=False)
        batch_op.create_index('ix_outbox_emails_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)



def downgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_status_next_attempt_at')
        batch_op.alter_column('status',
               existing_type=sa.Enum('QUEUED', 'SENDING', 'SENT', 'LOGGED', 'FAILED', 'DEAD', name='outboxstatus', native_enum=False, length=32),
               type_=sa.VARCHAR(length=16),
               existing_nullable=False)
        batch_op.alter_column('last_error', new_column_name='error',
               existing_type=sa.String(length=500), existing_nullable=True)
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('context')

    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_owner_id'))
        batch_op.drop_index('ix_uploads_orphans', postgresql_where=sa.text('attached_to IS NULL'), sqlite_where=sa.text('attached_to IS NULL'))
        batch_op.drop_index(batch_op.f('ix_uploads_attached_to'))

    op.drop_table('uploads')
