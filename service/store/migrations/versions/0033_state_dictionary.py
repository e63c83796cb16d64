"""A case's workflow state is deflated with a preset dictionary (bytes per completed case, issue 13)

``service.store.types.StoredState`` now writes a long state as the mark byte ``0x01`` and a raw deflate
stream made with ``STATE_DICTIONARY`` (the strings every state repeats): the complaint benchmark's states
go 713 / 887 / 381 → 545 / 699 / 268 bytes, 19 % less than plain zlib over 368 states of the bundled
SOPs and the tests' models; states from 64 bytes of JSON on are deflated (from 256 before: with the
dictionary a finished case's ~210-byte pruned state becomes ~80). Rows stored before stay as they are
(JSON text or a zlib stream, both still read) and take the new form when next written.

Nothing changes in the schema. Downgrade writes every state stored with the dictionary back as a zlib
stream (level 1, as 0025 stored them), the form an older release reads.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 17:30:00
"""
import zlib

import sqlalchemy as sa
from alembic import op

from service.store.types import NIL_UUID, state_text

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

#: rows read and written back at a time by the downgrade
BATCH = 500


def upgrade() -> None:
    pass


def downgrade() -> None:
    """In batches of :data:`BATCH` in id order (each read starts after the last id written: no scan over
    the rows already done)."""
    bind = op.get_bind()
    marked = ("get_byte(state, 0) = 1" if bind.dialect.name == "postgresql"
              else "typeof(state) = 'blob' AND substr(state, 1, 1) = x'01'")
    after = NIL_UUID  # before every case id
    while True:
        rows = bind.execute(sa.text(f"SELECT id, state FROM cases WHERE {marked} AND id > :after"
                                    f" ORDER BY id LIMIT {BATCH}"), {"after": after}).all()
        if not rows:
            break
        bind.execute(sa.text("UPDATE cases SET state = :state WHERE id = :id"),
                     [{"id": row.id, "state": zlib.compress(state_text(bytes(row.state)), 1)} for row in rows])
        after = rows[-1].id
