"""The register's full-text search after migration 0021, on SQLite and PostgreSQL.

SQLite's ``case_search`` is a contentless FTS5 table (the index, no copy of the text, no per-row sizes)
kept by triggers; its rowid names the row it indexes and the register maps it back to the case. What is
checked here: a completed complaint is found by a word of its data, its history, a staff note and a
reporter message; the case data is searched as it is now on both backends (an update replaces the old
words); a VACUUM keeps the rows found; every delete takes away exactly the words its insert added (after
a purge-like removal and FTS5's merge, none of the case's words is left in the index); the migration
converts a database holding cases (down to 0020: 0014's table with its text, up again: the same cases
found, the triggers back, no text stored). The index keeps no positions (``detail=none``), so every
phrase the register sends must be one token: checked for every letter a search word can hold.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from support import complaint_model
from support.complaint_model import FLOW, KEY
from support.helpers import Persona

from service.commands import register
from service.store.migrate import alembic_config, upgrade

#: fixtures of the complaint model (found by pytest by name)
engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes

#: words no form of the complaint holds: put in a note, a message and the case data by the tests
NOTE_WORD, MESSAGE_WORD, DATA_WORD, NEW_DATA_WORD = "kopiluwak", "sumurbor", "jembatangantung", "pasarterapung"
#: the triggers of migration 0021 (insert, update, delete on each of the four tables)
TRIGGERS = {f"case_search_{name}_{event}" for name in ("case", "history", "comment", "message")
            for event in ("insert", "update", "delete")}


def _complaint(client: Any, lanes: dict[str, Persona], create: dict[str, Any]) -> str:
    created = client.post("/api/cases", headers=lanes["Pelapor"].headers,
                          json={"definition_key": KEY, "data": create})
    assert created.status_code == 201, created.json
    case_id = str(created.json["id"])
    for lane, element, data in FLOW["steps"]:
        listed = client.get("/api/tasks", headers=lanes[lane].headers)
        (task,) = [t for t in listed.json["items"] if t["case_id"] == case_id and t["element_id"] == element]
        done = client.post(f"/api/tasks/{task['id']}/complete", headers=lanes[lane].headers, json={"data": data})
        assert done.status_code == 200, done.json
    return case_id


def _add_note_and_message(engine: Engine, case_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO comments (case_id, author, body, created_at) "
                          "VALUES (:c, 'kasi', :body, CURRENT_TIMESTAMP)"),
                     {"c": case_id, "body": f"Catatan {NOTE_WORD}"})
        conn.execute(text("INSERT INTO conversation (case_id, sender, text, created_at) "
                          "VALUES (:c, 'pelapor', :body, CURRENT_TIMESTAMP)"),
                     {"c": case_id, "body": f"Ada {MESSAGE_WORD}"})


def _found(client: Any, admin: Persona, q: str) -> list[str]:
    response = client.get("/api/cases", query_string={"q": q}, headers=admin.headers)
    assert response.status_code == 200, response.json
    return sorted(item["id"] for item in response.json["items"])


def _set_data(engine: Engine, case_id: str, data: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE cases SET data = :d WHERE id = :c"), {"d": json.dumps(data), "c": case_id})


def _terms(engine: Engine) -> set[str]:
    """Every term the SQLite index holds (FTS5's own vocabulary of it)."""
    with engine.begin() as conn:
        conn.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.case_search_terms USING fts5vocab(main, "
                          "case_search, row)"))
        return set(conn.execute(text("SELECT term FROM temp.case_search_terms")).scalars())


def test_a_case_is_found_by_its_data_history_notes_and_messages(
        client: Any, admin: Persona, lanes: dict[str, Persona], engine: Engine) -> None:
    case_id = _complaint(client, lanes, {"judul": "Laporan", "ringkasan": f"Laporan {DATA_WORD}"})
    other = _complaint(client, lanes, {"judul": "Laporan lain"})
    _add_note_and_message(engine, case_id)
    assert _found(client, admin, DATA_WORD) == [case_id]  # the case data
    assert _found(client, admin, "DPMPTSP") == sorted([case_id, other])  # a completed task's data (history)
    assert _found(client, admin, NOTE_WORD[:5]) == [case_id]  # a prefix of a note's word
    assert _found(client, admin, f"{MESSAGE_WORD} ada") == [case_id]  # every word, in one row (a message)
    assert _found(client, admin, f"{MESSAGE_WORD} tidakada") == []
    assert _found(client, admin, f"{MESSAGE_WORD} {NOTE_WORD}") == []  # as before: not from two rows


def test_the_case_data_is_searched_as_it_is_now(
        client: Any, admin: Persona, lanes: dict[str, Persona], engine: Engine) -> None:
    """As on PostgreSQL, whose index is on ``cases.data``: the old words go, the new ones are found; on
    SQLite a VACUUM (which keeps the cases' rowids, the index's key for their data) changes nothing."""
    case_id = _complaint(client, lanes, {"judul": "Laporan", "ringkasan": f"Laporan {DATA_WORD}"})
    assert _found(client, admin, DATA_WORD) == [case_id]
    _set_data(engine, case_id, {"judul": f"Laporan {NEW_DATA_WORD}", "jumlah": 3})
    assert _found(client, admin, DATA_WORD) == []
    assert _found(client, admin, NEW_DATA_WORD) == [case_id]
    if engine.dialect.name == "sqlite":
        assert DATA_WORD not in _optimized_terms(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")
        assert _found(client, admin, NEW_DATA_WORD) == [case_id]
        _integrity_check(engine)


def _optimized_terms(engine: Engine) -> set[str]:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO case_search (case_search) VALUES ('optimize')"))
    return _terms(engine)


def _integrity_check(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO case_search (case_search, rank) VALUES ('integrity-check', 0)"))


def test_every_delete_takes_away_exactly_the_words_of_its_row(
        client: Any, admin: Persona, lanes: dict[str, Persona], engine: Engine, db_url: str) -> None:
    """What a purge does to the rows (``retention._purge_one``): notes, messages and history deleted, the
    case's data cut and ``purged_at`` set. Once FTS5 has merged its segments, no word of the case is left
    in the SQLite index (a contentless table forgets only what it is told, so a text differing from the
    inserted one would leave words behind); the other case keeps all of its own."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the FTS5 index is SQLite's (PostgreSQL indexes the rows themselves)")
    gone = _complaint(client, lanes, {"judul": "Laporan", "ringkasan": f"Laporan {DATA_WORD}"})
    kept = _complaint(client, lanes, {"judul": "Laporan", "ringkasan": f"Laporan {NEW_DATA_WORD}"})
    _add_note_and_message(engine, gone)
    _set_data(engine, gone, {"judul": f"Laporan {DATA_WORD} diubah", "kategori": "pungutan liar"})
    with engine.begin() as conn:
        conn.execute(text("UPDATE comments SET body = 'Catatan kopitubruk' WHERE case_id = :c"), {"c": gone})
    assert _found(client, admin, "kopitubruk") == [gone] and _found(client, admin, NOTE_WORD) == []
    assert {DATA_WORD, NEW_DATA_WORD, MESSAGE_WORD, "kopitubruk", "diubah"} <= _optimized_terms(engine)
    with engine.begin() as conn:
        for table in ("comments", "conversation", "history"):
            conn.execute(text(f"DELETE FROM {table} WHERE case_id = :c"), {"c": gone})
        conn.execute(text("UPDATE cases SET data = '{\"kategori\": \"pungutan liar\"}', "
                          "purged_at = CURRENT_TIMESTAMP WHERE id = :c"), {"c": gone})
    _integrity_check(engine)
    terms = _optimized_terms(engine)
    assert terms.isdisjoint({DATA_WORD, MESSAGE_WORD, "kopitubruk", "diubah"}), terms
    assert {NEW_DATA_WORD, "pungutan", "dpmptsp"} <= terms  # the other case's data and history
    assert _found(client, admin, "pungutan") == [kept]  # the purged case's categories are not searched
    with engine.begin() as conn:  # and a purged case's data stays out of the index
        conn.execute(text("UPDATE cases SET data = '{\"x\": \"sesudahpurge\"}' WHERE id = :c"), {"c": gone})
    assert _found(client, admin, "sesudahpurge") == []


def test_migration_0021_converts_a_database_with_cases(
        client: Any, admin: Persona, lanes: dict[str, Persona], engine: Engine, db_url: str) -> None:
    case_id = _complaint(client, lanes, {"judul": "Laporan", "ringkasan": f"Laporan {DATA_WORD}"})
    _add_note_and_message(engine, case_id)
    sqlite = engine.dialect.name == "sqlite"
    command.downgrade(alembic_config(db_url), "0020")
    engine.dispose()
    if sqlite:  # 0014's table again, with its copy of the text
        with engine.connect() as conn:
            assert conn.execute(text("SELECT DISTINCT case_id FROM case_search WHERE case_search MATCH :q"),
                                {"q": f'"{NOTE_WORD}"'}).scalars().all() == [case_id]
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'case_search_content'")
                                ).scalar_one() == 1
    upgrade(db_url)
    engine.dispose()
    for word in (DATA_WORD, "dpmptsp", NOTE_WORD, MESSAGE_WORD):
        assert _found(client, admin, word) == [case_id], word
    if sqlite:
        with engine.connect() as conn:
            names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'case_search%'"))
                        .scalars())
            assert names >= TRIGGERS and "case_search_content" not in names, names
            assert conn.execute(text("SELECT body FROM case_search LIMIT 1")).scalar_one() is None  # no text
        _integrity_check(engine)
    later = _complaint(client, lanes, {"judul": "Laporan", "ringkasan": f"Laporan {NEW_DATA_WORD}"})  # triggers
    assert _found(client, admin, NEW_DATA_WORD) == [later]




def test_every_phrase_the_register_sends_sqlite_is_one_token() -> None:
    """A word is letters and digits (``register._WORD``); where SQLite's tokenizer disagrees with Python
    on a letter, :func:`register.fts_query` cuts the word there. A phrase of two tokens would be an error
    of the ``detail=none`` index (a 500): for every letter ``x``, ``axb`` gives phrases of one token each."""
    letters = [chr(code) for code in range(sys.maxunicode + 1)
               if not 0xD800 <= code <= 0xDFFF and register._WORD.fullmatch(chr(code))]
    phrases = [re.findall(r'"([^"]*)"\*', register.fts_query([f"a{letter}b"])) for letter in letters]
    assert all(1 <= len(found) <= 2 for found in phrases)
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        pieces = [piece for found in phrases for piece in found]
        conn.executemany("INSERT INTO t (rowid, body) VALUES (?, ?)", enumerate(pieces, start=1))
        tokens = dict(conn.execute("SELECT doc, count(*) FROM v GROUP BY doc"))
    finally:
        conn.close()
    assert {doc: tokens.get(doc, 0) for doc in range(1, len(pieces) + 1) if tokens.get(doc, 0) != 1} == {}
    assert len(pieces) > len(letters)  # some words were cut: the check sees the letters it is there for
    assert register.fts_query(["\u19b0"]) == ""  # a "word" of separators only asks for nothing
