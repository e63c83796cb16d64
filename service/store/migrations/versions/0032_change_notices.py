"""Notices when an account's credentials or a startable revision change (issue 13: fewer reads per request)

Every request checked the account behind its token or session with one read of the user row, and
every start of a case read its revision, unit and closed days. A server process now keeps those rows
and listens for changes instead (:mod:`service.store.change_notices`): on PostgreSQL a trigger on
``users`` sends ``NOTIFY alur_credentials, '<user id>'`` when ``active`` or ``credential_version``
changes, and when a user row is deleted; statement triggers on ``definitions``, ``units`` and
``unit_closed_days`` send ``NOTIFY alur_revisions`` on any change. A notice is delivered at commit, to
every listening process. Nothing on SQLite: processes there read on every request.

Downgrade drops the triggers and their functions.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 09:10:00
"""
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

_UPGRADE = """
CREATE FUNCTION alur_credentials_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('alur_credentials', OLD.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER users_credentials_changed AFTER UPDATE OF active, credential_version ON users FOR EACH ROW
    WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.credential_version IS DISTINCT FROM NEW.credential_version)
    EXECUTE FUNCTION alur_credentials_notify();
CREATE TRIGGER users_deleted AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION alur_credentials_notify();
CREATE FUNCTION alur_revisions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('alur_revisions', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER definitions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON definitions
    FOR EACH STATEMENT EXECUTE FUNCTION alur_revisions_notify();
CREATE TRIGGER units_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION alur_revisions_notify();
CREATE TRIGGER unit_closed_days_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON unit_closed_days
    FOR EACH STATEMENT EXECUTE FUNCTION alur_revisions_notify();
"""

_DOWNGRADE = """
DROP TRIGGER IF EXISTS unit_closed_days_changed ON unit_closed_days;
DROP TRIGGER IF EXISTS units_changed ON units;
DROP TRIGGER IF EXISTS definitions_changed ON definitions;
DROP FUNCTION IF EXISTS alur_revisions_notify();
DROP TRIGGER IF EXISTS users_deleted ON users;
DROP TRIGGER IF EXISTS users_credentials_changed ON users;
DROP FUNCTION IF EXISTS alur_credentials_notify();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_UPGRADE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DOWNGRADE)
