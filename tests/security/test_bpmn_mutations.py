"""A BPMN mutation fuzzer: every mutant of the bundled and MIWG diagrams deploys or is refused with a
422 — never a 500 and never a hang (issue 12, the suite).

Each mutant is one source diagram with one to three seeded mutations: an element dropped, duplicated
(ids and all) or renamed to another BPMN tag, an attribute dropped, added or given a hostile value, or a
text (expression, timer, condition) replaced. A mutant that deploys is also started once by the admin:
4xx is fine, 500 is not. A SIGALRM guard turns a hang into a failure. The short run (``make test``)
makes ``SHORT_MUTANTS`` on SQLite; the long run (``-m long``) ``LONG_MUTANTS`` on each backend.
"""

from __future__ import annotations

import copy
import random
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support.helpers import CORPUS, ENGINE_DATA, ROOT, Persona, deploy_bytes

#: diagrams that deploy as they are (the bundled SOPs and the engine tests'), and the MIWG corpus, most of
#: which is refused unmutated (no lanes, unsupported elements): mutants are drawn mostly from the first
DEPLOYABLE = sorted((ROOT / "bpmn").glob("*.bpmn")) + sorted(p for p in ENGINE_DATA.glob("*.bpmn")
                                                               if p.name != "review.bpmn")  # its forms are tests'

MIWG = sorted((CORPUS / "bpmn-miwg").rglob("*.bpmn"))
SOURCES = DEPLOYABLE + MIWG
FROM_DEPLOYABLE = 0.7
SHORT_MUTANTS = 100
LONG_MUTANTS = 2_000
SEED = 12
HANG_SECONDS = 30  # a deploy takes ~0.1 s, a start less: only a hang trips it
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
#: flow nodes, renamed into one another: the schema still holds, the meaning changes
TAGS = ["userTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "manualTask", "task", "exclusiveGateway",
        "parallelGateway", "inclusiveGateway", "eventBasedGateway", "startEvent", "endEvent",
        "intermediateCatchEvent", "intermediateThrowEvent", "subProcess", "callActivity"]
#: where most mutations land: the process, not its drawing (a broken drawing is refused by the XSD)
WEIGHTS = {"drop": 2, "duplicate": 1, "rename": 2, "attr_drop": 1, "attr_set": 3, "attr_add": 2, "text": 4}
HOSTILE = ["", " ", "0", "-1", "99999999999999999999999", "true", "x" * 5_000, "é\u202e\u0000"[:-1],
           "\ud7ff\uffff"[:1], "${1/0}", "1/0", "'a' * 10**9", "__import__('os')", "R/PT0.001S", "P999999999Y",
           "PT0S", "R5/2025-01-01T00:00:00Z/PT1M", "2025-13-45T99:99:99", "<", "&amp;", "nonexistent_ref",
           "start", "${", "{{x}}", "None", "[1]*2000", "Kasi", "unit-b", "../../etc/passwd"]
ALLOWED_DEPLOY = {200, 201, 422}
ALLOWED_START = {201, 400, 403, 404, 409, 422}


class Hang(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise Hang(f"a mutant took longer than {HANG_SECONDS} s")


@pytest.fixture
def hang_guard() -> Iterator[Callable[[], int]]:
    """Arms the alarm for one mutant (``fuzz`` disarms it)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    yield lambda: signal.alarm(HANG_SECONDS)
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def forms_dir() -> Path:
    """The bundled diagrams name the real forms."""
    return ROOT / "forms"


def _elements(root: Any, rng: random.Random) -> list[Any]:
    """The elements to mutate: mostly those of the process, one time in ten the drawing's too."""
    drawing = rng.random() < 0.1
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root
            and (drawing or not _in_drawing(e))]


def _in_drawing(element: Any) -> bool:
    namespace = etree.QName(element).namespace or ""
    return namespace.endswith(("/DI", "/DC", "/DD"))


def mutate(source: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """``source`` with one to three seeded mutations; returns the bytes and what was done."""
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    done: list[str] = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        elements = _elements(root, rng)
        if kind == "text":
            elements = [e for e in elements if (e.text or "").strip()] or elements
        elif kind == "rename":
            elements = [e for e in elements if etree.QName(e).localname in TAGS] or elements
        if not elements:
            break
        target = rng.choice(elements)
        name = etree.QName(target).localname
        parent = target.getparent()
        if kind == "drop" and parent is not None:
            parent.remove(target)
        elif kind == "duplicate" and parent is not None:
            parent.insert(parent.index(target) + 1, copy.deepcopy(target))
        elif kind == "rename":
            target.tag = f"{{{BPMN}}}{rng.choice(TAGS)}"
        elif kind == "attr_drop" and target.attrib:
            del target.attrib[rng.choice(sorted(target.attrib))]
        elif kind == "attr_set" and target.attrib:
            target.set(rng.choice(sorted(target.attrib)), rng.choice(HOSTILE + _ids(root, rng)))
        elif kind == "attr_add":
            attribute = rng.choice(["formKey", "candidateGroups", "collection", "elementVariable", "assignee",
                                    "dueDate", "candidateUsers"])
            target.set(f"{{{CAMUNDA}}}{attribute}", rng.choice(HOSTILE + _ids(root, rng)))
        else:
            target.text = rng.choice(HOSTILE)
            kind = "text"
        done.append(f"{kind} {name}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), done


def _ids(root: Any, rng: random.Random) -> list[str]:
    ids = [e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")]
    return rng.sample(ids, min(3, len(ids)))


def fuzz(client: Any, admin: Persona, count: int, guard: Callable[[], int]) -> tuple[dict[int, int], list[str]]:
    """Deploy (and start) ``count`` mutants; returns the deploy status counts and the failures."""
    rng = random.Random(SEED)
    statuses: dict[int, int] = {}
    failures: list[str] = []
    for number in range(count):
        source = rng.choice(DEPLOYABLE if rng.random() < FROM_DEPLOYABLE else MIWG)
        data, done = mutate(source.read_bytes(), rng)
        what = f"mutant {number} of {source.name}: {done}"
        guard()
        try:
            response = deploy_bytes(client, admin, data, name=source.name)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code not in ALLOWED_DEPLOY:
                failures.append(f"{what} → deploy {response.status_code} {response.get_data(as_text=True)[:200]}")
            elif response.status_code in (200, 201):
                started = client.post("/api/cases", headers=admin.headers,
                                      json={"definition_key": response.json["key"], "data": {}})
                if started.status_code not in ALLOWED_START:
                    failures.append(f"{what} → start {started.status_code} {started.get_data(as_text=True)[:200]}")
        except Hang as exc:
            failures.append(f"{what} → {exc}")
        finally:
            signal.alarm(0)
    return statuses, failures


def test_the_sources_are_there() -> None:
    assert len(SOURCES) >= 60, SOURCES


def test_mutation_changes_the_diagram() -> None:
    rng = random.Random(SEED)
    source = SOURCES[0].read_bytes()
    assert all(mutate(source, rng)[0] != source for _ in range(20))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_mutants_deploy_or_get_422_never_500_or_hang(client: Any, admin: Persona,
                                                     hang_guard: Callable[[], int]) -> None:
    statuses, failures = fuzz(client, admin, SHORT_MUTANTS, hang_guard)
    print(f"\nBPMN mutants: {SHORT_MUTANTS}, deploy statuses {statuses}")
    assert not failures, "\n".join(failures)
    assert sum(statuses.values()) == SHORT_MUTANTS


@pytest.mark.long
def test_mutants_deploy_or_get_422_never_500_or_hang_long(client: Any, admin: Persona,
                                                          hang_guard: Callable[[], int]) -> None:
    statuses, failures = fuzz(client, admin, LONG_MUTANTS, hang_guard)
    print(f"\nBPMN mutants long: {LONG_MUTANTS} mutants, deploy statuses {statuses}, {len(failures)} failures")
    assert not failures, "\n".join(failures[:50])


def test_a_task_turned_into_a_second_start_event_deploys_or_is_refused_not_500(client: Any, admin: Persona) -> None:
    """Found by the fuzzer (mutant 4): SpiffWorkflow puts a split before several start events, which has no
    ``extensions``, and reading the start form's key was an AttributeError → 500."""
    source = (ROOT / "bpmn" / "wbs-disperindagkop-kebumen.bpmn").read_text(encoding="utf-8")
    old = '<bpmn:userTask id="Task_melengkapi" name="Melengkapi laporan" camunda:formKey="wbs-kebumen-melengkapi">'
    assert old in source
    mutant = source.replace(old, old.replace("userTask", "startEvent"), 1)
    closing = mutant.index("</bpmn:userTask>", mutant.index('id="Task_melengkapi"'))
    mutant = mutant[:closing] + "</bpmn:startEvent>" + mutant[closing + len("</bpmn:userTask>"):]
    response = deploy_bytes(client, admin, mutant.encode(), name="two-starts.bpmn")
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 201:
        started = client.post("/api/cases", headers=admin.headers,
                              json={"definition_key": response.json["key"], "data": {}})
        assert started.status_code in ALLOWED_START, started.get_data(as_text=True)
