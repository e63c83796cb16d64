"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import DateTime, Dialect, LargeBinary, String
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import TypeDecorator, TypeEngine

from service.store import json_columns

_T = TypeVar("_T")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _SqliteBytes(LargeBinary):
    """Bytes in a SQLite column that keeps the type it was declared with: a declared type is only a name
    there, and changing it would rebuild the table (and its search triggers); SQLite stores any value as
    it comes, so such a column holds TEXT (rows written before) and BLOBs side by side."""

    def __init__(self, declared: str) -> None:
        super().__init__()
        self.declared = declared


@compiles(_SqliteBytes, "sqlite")
def _declared(type_: _SqliteBytes, _compiler: Any, **_kw: Any) -> str:
    return type_.declared


class _StoredAsBytes(TypeDecorator[_T]):
    """A value stored as bytes: ``bytea`` on PostgreSQL, a BLOB in a column declared :attr:`sqlite_declared`
    on SQLite (:class:`_SqliteBytes`)."""

    impl = LargeBinary
    cache_ok = True
    #: the SQLite column's declared type, kept from before
    sqlite_declared: ClassVar[str]

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(_SqliteBytes(self.sqlite_declared) if dialect.name == "sqlite"
                                       else LargeBinary())


class StoredState(_StoredAsBytes[dict[str, Any]]):
    """A case's workflow state as stored: its JSON, deflated with :data:`STATE_DICTIONARY` when longer than
    :data:`DEFLATE_FROM` bytes.

    Why (issue 13, bytes per completed case): a running state is 1.3–1.9 kB of JSON, too short for
    PostgreSQL to compress (it compresses only rows over ~2 kB), and no update of a case is HOT, so each
    of a complaint's three case row versions kept its whole state until VACUUM. Deflate halves a running
    state; a preset dictionary of the strings every state repeats takes another 20–25 % off a state this
    short, which plain deflate has no earlier text to refer back to (1,926 → 887 → 699 B).

    A stored value is read by its first byte: ``{`` is JSON text (short states, and what was stored before
    this type), :data:`DICTIONARY_MARK` a raw deflate stream made with :data:`STATE_DICTIONARY` (migration
    0033), anything else a zlib stream (migration 0025). PostgreSQL keeps it as ``bytea`` (migration 0025
    turned the ``json`` column into the bytes of its text). SQLite keeps the column's declared type ``JSON``
    and holds TEXT (older rows) or BLOB values.
    """

    sqlite_declared = "JSON"

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> bytes | None:
        return None if value is None else stored_state(value)

    def process_result_value(self, value: bytes | str | None, dialect: Dialect) -> dict[str, Any] | None:
        return None if value is None else state_of(value)


def stored_state(state: dict[str, Any]) -> bytes:
    """``state`` as :class:`StoredState` stores it."""
    text = json_columns.dumps(state).encode()
    if len(text) <= DEFLATE_FROM:
        return text
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=STATE_DICTIONARY)
    return DICTIONARY_MARK + packer.compress(text) + packer.flush()


def state_of(stored: bytes | str) -> dict[str, Any]:
    """The state a stored value of :class:`StoredState` holds (JSON text, as ``str`` or bytes, or deflated)."""
    if isinstance(stored, str):
        return cast(dict[str, Any], json_columns.loads(stored))
    return cast(dict[str, Any], json_columns.loads(state_text(bytes(stored))))


def state_text(stored: bytes) -> bytes:
    """The JSON text of a state stored as bytes, in any of the forms :class:`StoredState` reads."""
    head = stored[:1]
    if head == b"{":
        return stored
    if head == DICTIONARY_MARK:
        unpacker = zlib.decompressobj(-zlib.MAX_WBITS, zdict=STATE_DICTIONARY)
        return unpacker.decompress(stored[1:]) + unpacker.flush()
    return zlib.decompress(stored)


#: states up to this many bytes of JSON are stored as they are. With the dictionary even a short state
#: shrinks (a finished case's pruned state of ~210 bytes to ~80: 15 of 368 states sampled from the bundled
#: SOPs were that short); below this a few bytes are all there is to gain.
DEFLATE_FROM = 64

#: the first byte of a state deflated with :data:`STATE_DICTIONARY` (neither ``{`` nor a zlib header's)
DICTIONARY_MARK = b"\x01"

#: Deflate's preset dictionary for stored states: what a format 2 dump (``service.engine.serialization``)
#: repeats whatever the diagram — its keys, SpiffWorkflow's task states and generated task names — and the
#: field names the complaint forms share. Deflate refers back into it as into text already written, and
#: reaches its end most cheaply, so the most frequent strings come last.
#:
#: **Never change these bytes**: every row stored with them needs them to be read. Another dictionary
#: takes another mark byte, with a migration whose downgrade writes its rows back in a form the older
#: release reads (as 0033 does for this one); ``tests/store/test_deflated_state.py`` pins its digest.
STATE_DICTIONARY = (
    b'"lampiran":"nama":"telepon":"email":"alamat":"saluran":"kategori":"lokasi":"tanggal_kejadian":"'
    b'judul":"catatan":"uraian":"nomor_registrasi":"'
    b'"subprocesses":{""correlations":{"bpmn_events":["typename":"BpmnWorkflow"'
    b'"last_task":null,"success":true,"completed":true,"pruned":true'
    b'"i":{"event_value":""i":{"event_fired":true}}"g":true"p":"'
    b'.BoundaryEventSplit",.BoundaryEventJoin",.EndJoin",Start",64,"End",4,'
    b'{"updates":{},"deletions":["d":{"updates":{""v":{"{"c":['
    b'"alur_state_format":2,"spiff_serializer_version":"1.5"}'
    b'{"data":{,"last_task":,"success":true,"completed":false,"tasks":[["'
    b'",1,",2,",4,",8,",16,",64,,{"c":[]],["'
)


class Digest(_StoredAsBytes[str]):
    """A SHA-256 digest: its 64 hex digits in Python, its 32 bytes stored (history's hash chain).

    Why (issue 13, bytes per completed case): a complaint writes six history rows, each with ``hash`` and
    ``prev_hash``; as hex text each took 65 bytes, as bytes 33 (migration 0026 says why ``cases.history_head``
    stays hex). PostgreSQL keeps ``bytea`` (migration 0026 decoded the hex of older rows). SQLite
    keeps the declared ``VARCHAR(64)`` and holds TEXT hex (older rows) or BLOBs.
    """

    sqlite_declared = "VARCHAR(64)"

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else bytes.fromhex(value)

    def process_result_value(self, value: bytes | str | None, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return bytes(value).hex()


class EntityId(TypeDecorator[str]):
    """The id of a case or a task: a UUID in its canonical text form in Python, stored as PostgreSQL's
    16-byte ``uuid`` and as text on SQLite (``VARCHAR(36)``).

    Why (issue 13, bytes per completed case): a case id is stored a dozen times per complaint (the case,
    its tasks, access rows and history rows, and every index over them); as text each copy took 37 bytes.

    A value that is not a canonical UUID (lower-case hex, as ``str(uuid.UUID(...))`` writes it) names no
    row: on PostgreSQL it is bound as the nil UUID, which :func:`uuid.uuid4` never makes, where casting it
    would fail the statement; on SQLite, where the column is text, it matches nothing as it is.
    """

    impl = String(36)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=False))
        return dialect.type_descriptor(String(36))

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "postgresql":
            return cast(str | None, value)
        return value if is_canonical_uuid(value) else NIL_UUID


#: the nil UUID: what :class:`EntityId` binds for a value that is not a UUID on PostgreSQL
NIL_UUID = "00000000-0000-0000-0000-000000000000"
#: the highest canonical UUID
MAX_UUID = "ffffffff-ffff-ffff-ffff-ffffffffffff"
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_canonical_uuid(value: object) -> bool:
    """Whether ``value`` is a UUID as ``str(uuid.UUID(...))`` writes it."""
    return isinstance(value, str) and _CANONICAL_UUID.fullmatch(value) is not None


def ids_starting_with(prefix: str) -> tuple[str, str]:
    """The first and the last canonical UUID whose text starts with ``prefix`` (a search by the start of a
    case id: a range of the primary key on both databases, where ``LIKE 'prefix%'`` is not an operator of
    PostgreSQL's ``uuid``); the nil UUID twice, which names no case, when no UUID starts with it."""
    first, last = prefix + NIL_UUID[len(prefix):], prefix + MAX_UUID[len(prefix):]
    if not (is_canonical_uuid(first) and is_canonical_uuid(last)):
        return NIL_UUID, NIL_UUID
    return first, last
