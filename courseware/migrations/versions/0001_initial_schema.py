"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:02:47.715917

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['department.id'], name=op.f('fk_department_parent_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
    sa.UniqueConstraint('parent_id', 'name', name=op.f('uq_department_parent_id_name'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_user_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_department_id'), ['department_id'], unique=False)

    op.create_table('content_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.String(length=64), nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('compiled', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_content_revision_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_revision'))
    )
    with op.batch_alter_table('content_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_revision_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_revision_source_hash'), ['source_hash'], unique=False)

    op.create_table('user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_role_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_role'))
    )
    op.create_table('learning_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('verb', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=128), nullable=False),
    sa.Column('object_kind', sa.String(length=16), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.String(length=64), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['content_revision.id'], name=op.f('fk_learning_record_revision_id_content_revision')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_learning_record_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_record')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_learning_record_idempotency_key')),
    sa.UniqueConstraint('statement_id', name=op.f('uq_learning_record_statement_id'))
    )
    with op.batch_alter_table('learning_record', schema=None) as batch_op:
        batch_op.create_index('ix_learning_record_object', ['object_id', 'verb'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_record_timestamp'), ['timestamp'], unique=False)
        batch_op.create_index('ix_learning_record_user_time', ['user_id', 'timestamp'], unique=False)

    op.create_table('progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('module_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['content_revision.id'], name=op.f('fk_progress_revision_id_content_revision')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_progress_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress')),
    sa.UniqueConstraint('user_id', 'activity_id', name=op.f('uq_progress_user_id_activity_id'))
    )
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.create_index('ix_progress_activity_status', ['activity_id', 'status'], unique=False)

    op.create_table('revision_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['content_revision.id'], name=op.f('fk_revision_file_revision_id_content_revision'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_file')),
    sa.UniqueConstraint('revision_id', 'path', name=op.f('uq_revision_file_revision_id_path'))
    )



def downgrade():

    op.drop_table('revision_file')
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_activity_status')

    op.drop_table('progress')
    with op.batch_alter_table('learning_record', schema=None) as batch_op:
        batch_op.drop_index('ix_learning_record_user_time')
        batch_op.drop_index(batch_op.f('ix_learning_record_timestamp'))
        batch_op.drop_index('ix_learning_record_object')

    op.drop_table('learning_record')
    op.drop_table('user_role')
    with op.batch_alter_table('content_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_revision_source_hash'))
        batch_op.drop_index(batch_op.f('ix_content_revision_published_at'))

    op.drop_table('content_revision')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_department_id'))

    op.drop_table('user')
    op.drop_table('department')

