"""A JSON body is parsed once per request, and orjson's fast reading in ``guards.load_json`` accepts exactly
the bodies the checking stdlib reading accepts, with the same values, and refuses the others alike.

The guard parses every JSON body (nesting, numbers, lone surrogates, NUL); webargs then takes the guard's
value (``GuardedParser``) instead of parsing the body again. ``load_json`` reads with orjson first and
falls back to ``_load_checked`` (the stdlib with hooks on every number) for anything orjson refuses or
might read otherwise; the two are compared here on hostile and generated bodies.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import webargs.core

from service.api.guards import MAX_JSON_INTEGER, _load_checked, load_json
from service.errors import InvalidInput

MAX_DEPTH = 32
HOSTILE = [
    b"[" * 100_000 + b"]" * 100_000, b"[" * 33 + b"]" * 33, b"[" * 32 + b"]" * 32, b"[" * 1100 + b"]" * 1100,
    b'{"a": "\\ud800"}', b'{"\\udfff": 1}', b'"\\ud83d\\ude00"', b'"\xed\xa0\x80"', b'{"a": "\\u0000"}',
    b'{"a\\u0000": 1}', b'"\x00"', b"9" * 5000, b"9" * 40, b"1" * 19, b"1" * 20,
    str(MAX_JSON_INTEGER).encode(), str(MAX_JSON_INTEGER + 1).encode(), str(-MAX_JSON_INTEGER).encode(),
    str(-MAX_JSON_INTEGER - 1).encode(), str(2**64 - 1).encode(), str(2**64).encode(), str(-(2**63) - 1).encode(),
    b"18446744073709551616.0", b"1e19", b"9.3e18", b"-9.3e18", b"NaN", b"-Infinity", b"Infinity", b"1e999",
    b"-1e999", b"1e-999", b"-0", b"-0.0", b"0.1", b"1E+2", b"01", b"1.", b".5", b"+1", b"[1,]", b"{'a': 1}",
    b"\xef\xbb\xbf{}", '{"a": "é"}'.encode("utf-16"), '{"a": "é"}'.encode("utf-16-le"), b'"\xc0\xaf"',
    b'{"a": 1, "b": 2, "a": 3}', b"", b" ", b"\t[1]\r\n", b"\x0c1", b"[1] [2]", b'"\\x"', b"tru", b"null",
    b'"\xff"', b'{"a": [true, false, null, {"b": "\\n\\t\\"\\\\/"}]}', b'"\xf4\x90\x80\x80"',
]


def _outcome(parse: Any, raw: bytes) -> tuple[str, Any]:
    """What a parse made of ``raw``: the value with every type spelled out, or the refusal."""
    try:
        return "value", _typed(parse(raw))
    except InvalidInput as exc:
        return "refused", (exc.message, exc.details)
    except ValueError as exc:
        return "not JSON", type(exc).__name__


def _typed(value: Any) -> Any:
    """``value`` with its types kept (``1 == 1.0 == True`` in Python; ``-0.0 == 0.0``), key order too."""
    if isinstance(value, dict):
        return ("dict", tuple((key, _typed(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_typed(item) for item in value))
    return (type(value).__name__, repr(value))


def _both(raw: bytes) -> tuple[tuple[str, Any], tuple[str, Any]]:
    return _outcome(lambda body: load_json(body, MAX_DEPTH), raw), \
        _outcome(lambda body: _load_checked(body, MAX_DEPTH, ""), raw)


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_are_read_and_refused_alike(raw: bytes) -> None:
    fast, checked = _both(raw)
    assert fast == checked


def _number(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.choice([1, -1]) * rng.randrange(2 ** rng.choice([8, 53, 62, 63, 64, 65, 70])))
    if kind == 1:
        return repr(rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-300, 300))
    if kind == 2:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 40))).lstrip("0") or "0"
        return f"{rng.choice(['', '-'])}{digits}.{rng.randrange(10**6)}e{rng.randrange(-330, 330)}"
    if kind == 3:
        return repr(rng.random())
    if kind == 4:
        return rng.choice(["0", "-0", "1e308", "2e308", "4.9e-324", "2.5e-324", "9223372036854775807.5"])
    return str(rng.randrange(-1000, 1000))


def _string(rng: random.Random) -> str:
    pieces = ["a", "é", "😀", "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\n", '\\"', "\\u20ac", "\u2028",
              "\\/", " ", "9" * 19]
    return '"' + "".join(rng.choice(pieces) for _ in range(rng.randrange(6))) + '"'


def _document(rng: random.Random, depth: int) -> str:
    kind = rng.randrange(8) if depth < 36 else rng.randrange(5)
    if kind in (0, 1):
        return _number(rng)
    if kind == 2:
        return _string(rng)
    if kind in (3, 4):
        return rng.choice(["true", "false", "null"]) if kind == 3 else _string(rng)
    items = [_document(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 5:
        return "[" + ",".join(items) + "]"
    return "{" + ",".join(f"{_string(rng)}:{item}" for item in items) + "}"


def _mutated(rng: random.Random, raw: bytes) -> bytes:
    where = rng.randrange(len(raw) + 1)
    if rng.random() < 0.5:
        return raw[:where]
    return raw[:where] + bytes([rng.randrange(256)]) + raw[where:]


def test_generated_bodies_are_read_and_refused_alike() -> None:
    rng = random.Random(13)
    outcomes: set[str] = set()
    for _ in range(3000):
        raw = _document(rng, 0).encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            raw = _mutated(rng, raw)
        fast, checked = _both(raw)
        assert fast == checked, raw[:300]
        outcomes.add(fast[0])
    assert outcomes == {"value", "refused", "not JSON"}  # the generator reaches every way out


# --- one parse per request ---------------------------------------------------------------------------


@pytest.fixture
def webargs_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies webargs parsed itself (its ``parse_json``, still called)."""
    seen: list[bytes] = []
    original = webargs.core.parse_json

    def counted(body: Any, **kwargs: Any) -> Any:
        seen.append(body)
        return original(body, **kwargs)

    monkeypatch.setattr(webargs.core, "parse_json", counted)
    return seen


def test_webargs_takes_the_guards_parse_of_a_json_body(client: Any, start_review: Any, staff: dict[str, Any],
                                                        webargs_parses: list[bytes]) -> None:
    case = start_review(data={"judul": "Pungli di loket — “kutip” 😀"})
    assert case["data"]["judul"] == "Pungli di loket — “kutip” 😀"
    response = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=staff["kasi_a"].headers,
                           json={"data": {"hasil": "lengkap"}})
    assert response.status_code == 200, response.json
    assert webargs_parses == []


@pytest.mark.parametrize("body", [b"\xef\xbb\xbf{\"data\": {}}", '{"data": {}}'.encode("utf-16")],
                         ids=["utf-8-bom", "utf-16"])
def test_a_body_webargs_decodes_otherwise_is_still_its_400(client: Any, start_review: Any, staff: dict[str, Any],
                                                           webargs_parses: list[bytes], body: bytes) -> None:
    """The guard reads UTF-16 and a BOM (the stdlib detects them); webargs reads UTF-8 only and answers
    400, as before: the guard's value is not handed over for such a body."""
    case = start_review()
    response = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete",
                           headers={**staff["kasi_a"].headers, "Content-Type": "application/json"}, data=body)
    assert response.status_code == 400, response.json
    assert response.json["errors"] == [{"field": "body", "message": "Invalid JSON body."}]
    assert webargs_parses == [body]


def test_json_null_body_reaches_webargs_as_null(client: Any, start_review: Any, staff: dict[str, Any],
                                                 webargs_parses: list[bytes]) -> None:
    case = start_review()
    response = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete",
                           headers={**staff["kasi_a"].headers, "Content-Type": "application/json"}, data=b"null")
    assert response.status_code == 422, response.json
    assert webargs_parses == []
