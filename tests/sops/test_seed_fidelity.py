"""Seed fidelity of the SOP diagrams in bpmn/ (lxml + jsonschema; of the service, only its catalogue of offices).

The tables below transcribe shared/seeds/STEPS.md: for every diagram, the seed's numbered steps per
actor (lane), the reporter's "receive" steps (modelled as thrown notification messages, not user
tasks), each step's Waktu, and what the diagram adds that the seed does not state (inferred tasks
and notifications, which carry no ``langkah``). Then what the reporter is owed (issue 10): every
notice publishes its fields (``tampilkan``), every way out of a reporter's SOP passes a notice, every
Pelapor task has a time limit, every exit that ends, rejects, returns or forwards a report needs a
written reason, dispositions name a sub-unit (``tujuan_unit``), and the process-level policy
(``pengawas``, ``mode_pelapor``, ``identitas_wajib``, ``data_identitas``).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from support.sop_driver import BPMN_DIR, FLOW_NODES, FORMS_DIR, form, without

from service.catalogue import SUB_UNITS

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
CAM = "{{{}}}".format(NS["camunda"])


@dataclass
class Seed:
    unit: str
    lanes: dict[str, set[int]]  # lane -> langkah of the seed's user tasks (not the start event)
    start: set[int]  # langkah covered by the start event (the reporter's filing)
    receive: dict[str, set[int]] = field(default_factory=dict)  # lane -> langkah modelled as notifications
    waktu: dict[int, str] = field(default_factory=dict)  # langkah -> seed Waktu (user tasks only)
    seed_steps: int = 0  # numbered steps of the seed document in this diagram
    inferred_tasks: dict[str, int] = field(default_factory=dict)  # lane -> user tasks not in the seed
    inferred_notifications: int = 0  # thrown messages not backed by a seed step
    period: str | None = None  # timer start cycle of a periodic report process
    deadlines: dict[str, str] = field(default_factory=dict)  # Pelapor task -> its time limit (timer text)
    routes: dict[str, str] = field(default_factory=dict)  # user task -> its tujuan_unit field
    policy: dict[str, str] = field(default_factory=dict)  # process properties of issue 10


SEEDS: dict[str, Seed] = {
    # 000: Masyarakat/Pemohon 1 · Kasi 2,3,7,9,10 · Kepala Bidang 4,5,8 · Bidang Terkait 6
    "wbs-dpmptsp-kukar": Seed(
        unit="dpmptsp-kukar",
        start={1},
        lanes={"Pelapor": set(), "Kasi": {2, 3, 7, 9, 10}, "Kabid": {4, 5, 8}, "Bidang Terkait": {6}},
        waktu={
            2: "5 Menit",
            3: "10 Menit",
            4: "3 Menit",
            5: "3 Jam",
            6: "3 Jam",
            7: "10 Menit",
            8: "5 Menit",
            9: "40 Menit",
            10: "3 Menit",
        },
        seed_steps=10,
        inferred_notifications=1,  # surat balasan distributed (langkah 9)
        routes={"Task_tindak_lanjut_bidang": "bidang_tujuan"},  # langkah 4/6: "menyerahkan kebidang terkait"
        policy={"pengawas": "Kepala Dinas", "mode_pelapor": "anonim,rahasia,biasa"},
    ),
    # not a seed: the "SOP penanganan surat keluar" referenced by 000 langkah 8; own numbering: 1 (the letter
    # is numbered and handed back; 000 langkah 9 sends it)
    "surat-keluar": Seed(
        unit="dpmptsp-kukar",
        start=set(),
        lanes={"Subbag Umum": {1}},
        seed_steps=1,
    ),
    # 001 (all actors inferred in STEPS.md): Pemohon 1, 7(receive) · Sekretariat 2,6,8 · Tim Telaah 3 ·
    # Kepala DPMPTSP 4 · Tim Audit 5
    "wbs-dpmptsp-lamandau": Seed(
        unit="dpmptsp-lamandau",
        start={1},
        lanes={
            "Pelapor": set(),
            "Sekretariat": {2, 6, 8},
            "Tim Telaah": {3},
            "Tim Audit": {5},
            "Kepala Dinas": {4},
        },
        receive={"Pelapor": {7}},
        waktu={2: "30 Menit", 3: "30 Menit", 4: "1 Jam", 5: "1 Jam", 6: "1 Jam", 8: "15 Menit"},
        seed_steps=8,
        policy={"pengawas": "Kepala Dinas", "mode_pelapor": "anonim,rahasia,biasa"},
    ),
    # 002: Pemohon 1-5 (one online form = the start event); the Tim Penerima's checks D1/D2 and the
    # Sekretariat Penanganan come from the Keterangan column only; no Waktu.
    "wbs-disperindagkop-kebumen": Seed(
        unit="disperindagkop-kebumen",
        start={1, 2, 3, 4, 5},
        lanes={"Pelapor": set(), "Tim Penerima Pengaduan": set(), "Sekretariat Penanganan": set()},
        seed_steps=5,
        inferred_tasks={"Pelapor": 1, "Tim Penerima Pengaduan": 2, "Sekretariat Penanganan": 1},
        inferred_notifications=3,  # konfirmasi awal; closed as incomplete; the Sekretariat's tanggapan
        deadlines={"Task_melengkapi": "hari_kerja(14)"},
        policy={"pengawas": "Kepala Dinas", "mode_pelapor": "rahasia,biasa",
                "identitas_wajib": "nama,unit_kerja,telepon,email", "data_identitas": "nip,unit_kerja"},
    ),
    # 003a: Masyarakat 1 · Petugas 2,3 · Sekretaris 4,6 · Kepala Bidang 5 · Kadis none
    "pengaduan-langsung-dinsos-kukar": Seed(
        unit="dinsos-kukar",
        start={1},
        lanes={
            "Pelapor": set(),
            "Petugas": {2, 3},
            "Kabid": {5},
            "Sekretaris": {4, 6},
            "Kepala Dinas": set(),
        },
        waktu={2: "10 Menit", 3: "10 Menit", 4: "10 Menit", 5: "2 hari kerja", 6: "10 hari kerja"},
        seed_steps=6,
        inferred_notifications=1,  # result of the follow-up
        routes={"Task_tindak_lanjut": "bidang"},  # langkah 4: "kepada … Bidang terkait", one task per bidang
        policy={"pengawas": "Kepala Dinas", "mode_pelapor": "anonim,rahasia,biasa"},
    ),
    # 003b: Admin 1,2,3,4,8 · Sekretaris 5 (9 -> laporan berkala) · Kabid 6,7; the reporter receives
    # the acknowledgement (3) and the reply (8); the submission itself has no number (start event).
    "pengaduan-online-dinsos-kukar": Seed(
        unit="dinsos-kukar",
        start=set(),
        lanes={
            "Pelapor": set(),
            "Admin Media Sosial": {1, 2, 3, 4, 8},
            "Kabid": {6, 7},
            "Sekretaris": {5},
        },  # the Kepala Dinas has no step of his own here: no lane (pengawas, escalations)
        receive={"Pelapor": {3, 8}},
        waktu={
            1: "5 Menit",
            2: "10 Menit",
            3: "5 Menit",
            4: "10 Menit",
            5: "10 Menit",
            6: "30 Menit",
            7: "10 Menit",
            8: "30 Menit",
        },
        seed_steps=8,
        inferred_notifications=1,  # a message not related to a complaint (D1), with its reason
        routes={"Task_tindak_lanjut": "bidang", "Task_balasan": "bidang"},  # langkah 5, one task per bidang
        policy={"pengawas": "Kepala Dinas,Sekretaris", "mode_pelapor": "anonim,rahasia,biasa"},
    ),
    "pengaduan-online-dinsos-kukar-laporan-berkala": Seed(
        unit="dinsos-kukar",
        start=set(),
        lanes={"Sekretaris": {9}, "Kepala Dinas": set()},
        seed_steps=1,
        period="R/P3M",
    ),
    # 004: Pelapor 1, 7(receive) · Inspektorat 2 · Inspektur 3,5,8 (8: he sends the file, B.8; 9 -> laporan
    # berkala) · Sekretariat Inspektorat 4 · Eselon II 6; the Kepala Instansi lain / Instansi Lain receives
    # outside Alur: no lane
    "dumas-inspektorat-katingan": Seed(
        unit="inspektorat-katingan",
        start={1},
        lanes={
            "Pelapor": set(),
            "Inspektorat": {2},
            "Inspektur": {3, 5, 8},
            "Sekretariat Inspektorat": {4},
            "Eselon II": {6},
        },
        receive={"Pelapor": {7}},
        waktu={5: "60 Hari", 6: "14 hari kerja"},
        seed_steps=8,
        inferred_tasks={"Pelapor": 1},  # Melengkapi laporan (D1 incomplete)
        # tidak dapat diproses; time limit of Melengkapi passed; tembusan to the Inspektur; sent to Instansi Lain
        inferred_notifications=4,
        deadlines={"Task_melengkapi": "hari_kerja(14)"},
        routes={"Task_tindak_lanjut_eselon2": "unit_kerja_terlapor"},  # "unit pejabat Eselon II"
        policy={"pengawas": "Inspektur,Sekretariat Inspektorat", "mode_pelapor": "rahasia,biasa",
                "identitas_wajib": "nama,nik,alamat|email,telepon,pekerjaan"},  # "Alamat/Email"
    ),
    "dumas-inspektorat-katingan-laporan-berkala": Seed(
        unit="inspektorat-katingan",
        start=set(),
        lanes={"Sekretariat Inspektorat": set(), "Inspektur": {9}},
        seed_steps=1,
        inferred_tasks={"Sekretariat Inspektorat": 1},  # prepares the report the Inspektur receives (step 9)
        period="R/P6M",
    ),
}


def expected_timer(waktu: str) -> str:
    """Seed Waktu -> the timer text (a regular expression), all in the unit's office time: minutes and
    hours as menit_kerja(N) / jam_kerja(N), hari kerja as hari_kerja(N), calendar days as
    hari_kalender(N[, the case field of the day the count starts])."""
    m = re.fullmatch(r"(\d+)\s+(menit|jam|hari kerja|hari)", waktu.strip().lower())
    assert m, waktu
    n, unit = int(m.group(1)), m.group(2)
    return {"menit": rf"menit_kerja\({n}\)", "jam": rf"jam_kerja\({n}\)", "hari kerja": rf"hari_kerja\({n}\)",
            "hari": rf"hari_kalender\({n}(, \w+)?\)"}[unit]


def props(el: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in el.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    }


def langkah(el: etree._Element) -> set[int]:
    v = props(el).get("langkah", "")
    return {int(x) for x in v.split(",") if x.strip()}


class Diagram:
    def __init__(self, key: str) -> None:
        self.key = key
        self.tree = etree.parse(str(BPMN_DIR / f"{key}.bpmn"))
        procs = self.tree.findall("bpmn:process", NS)
        assert len(procs) == 1
        self.proc = procs[0]
        self.lanes = {ln.get("name"): ln for ln in self.proc.findall("bpmn:laneSet/bpmn:lane", NS)}
        self.lane_of: dict[str, str] = {}
        for name, ln in self.lanes.items():
            for ref in ln.findall("bpmn:flowNodeRef", NS):
                assert ref.text not in self.lane_of, f"{ref.text} is in two lanes"
                self.lane_of[ref.text] = name
        self.nodes = {el.get("id"): el for tag in FLOW_NODES for el in self.proc.findall(f"bpmn:{tag}", NS)}
        self.flows = {f.get("id"): f for f in self.proc.findall("bpmn:sequenceFlow", NS)}

    def of(self, tag: str) -> list[etree._Element]:
        return self.proc.findall(f"bpmn:{tag}", NS)

    def notifications(self) -> list[etree._Element]:
        return [
            e
            for tag in ("intermediateThrowEvent", "endEvent")
            for e in self.of(tag)
            if e.find("bpmn:messageEventDefinition", NS) is not None
        ]

    def forms_of_process(self) -> dict[str, dict]:
        keys = {e.get(CAM + "formKey") for e in self.nodes.values() if e.get(CAM + "formKey")}
        return {k: json.loads((FORMS_DIR / f"{k}.schema.json").read_text("utf-8")) for k in keys}

    def decisions(self) -> list[etree._Element]:
        """The decision table (``bpmn/<decisionRef>.dmn``) of each business rule task."""
        return [etree.parse(str(BPMN_DIR / f"{t.get(CAM + 'decisionRef')}.dmn")).find(".//{*}decisionTable")
                for t in self.of("businessRuleTask")]

    def decision_outputs(self) -> dict[str, dict]:
        """Each variable a decision table sets, as a field whose enum is the values its rules give."""
        outputs: dict[str, dict] = {}
        for table in self.decisions():
            names = [o.get("name") for o in table.findall("{*}output")]
            for rule in table.findall("{*}rule"):
                for name, entry in zip(names, rule.findall("{*}outputEntry"), strict=True):
                    value = ast.literal_eval(entry.findtext("{*}text", default="").strip())
                    outputs.setdefault(name, {"type": "string", "enum": []})["enum"].append(value)
        return outputs

    def decision_inputs(self) -> set[str]:
        """The case variables the decision tables read (each input expression is a plain name)."""
        return {i.findtext("{*}inputExpression/{*}text", default="").strip()
                for table in self.decisions() for i in table.findall("{*}input")}


@pytest.fixture(scope="module", params=sorted(SEEDS))
def case(request: pytest.FixtureRequest) -> tuple[Diagram, Seed]:
    return Diagram(request.param), SEEDS[request.param]


def test_every_diagram_is_covered() -> None:
    assert {p.stem for p in BPMN_DIR.glob("*.bpmn")} == set(SEEDS)


def test_process_collaboration_and_metadata(case: tuple[Diagram, Seed]) -> None:
    d, seed = case
    assert d.proc.get("id") == d.key and d.proc.get("isExecutable") == "true"
    parts = d.tree.findall("bpmn:collaboration/bpmn:participant", NS)
    assert len(parts) == 1 and parts[0].get("processRef") == d.key
    meta = props(d.proc)
    assert {
        "nomor_sop",
        "tanggal_pembuatan",
        "tanggal_revisi",
        "tanggal_efektif",
        "disahkan_oleh",
        "unit",
        "judul",
    } <= set(meta)
    assert meta["unit"] == seed.unit
    for k in ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif"):
        assert meta[k] == "" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta[k])
    assert (d.proc.findtext("bpmn:documentation", namespaces=NS) or "").strip()


def test_lanes_are_the_seed_actors(case: tuple[Diagram, Seed]) -> None:
    d, seed = case
    assert list(d.lanes) == list(seed.lanes)
    assert set(d.lane_of) == set(d.nodes), "every flow node in exactly one lane"


def test_step_count(case: tuple[Diagram, Seed]) -> None:
    """seed steps == user tasks with a langkah + start event langkah + notification langkah."""
    d, seed = case
    task_steps = [n for t in d.of("userTask") for n in langkah(t)]
    start_steps = [n for s in d.of("startEvent") for n in langkah(s)]
    notif_steps = [n for e in d.notifications() for n in langkah(e)]
    assert len(task_steps) == len(set(task_steps)), "a seed step is one user task"
    assert set(start_steps) == seed.start
    assert (
        len(task_steps) + len(start_steps) + len([n for n in notif_steps if n not in task_steps])
        == seed.seed_steps
    )
    assert (
        len(d.notifications()) - len([e for e in d.notifications() if langkah(e)])
        == seed.inferred_notifications
    )


def test_lanes_hold_the_seed_steps(case: tuple[Diagram, Seed]) -> None:
    d, seed = case
    for lane, steps in seed.lanes.items():
        tasks = [t for t in d.of("userTask") if d.lane_of[t.get("id")] == lane]
        assert {n for t in tasks for n in langkah(t)} == steps, lane
        assert len([t for t in tasks if not langkah(t)]) == seed.inferred_tasks.get(lane, 0), lane
    for s in d.of("startEvent"):
        if langkah(s):
            assert d.lane_of[s.get("id")] == "Pelapor"
    for lane in d.lanes:
        got = {n for e in d.notifications() if d.lane_of[e.get("id")] == lane for n in langkah(e)}
        assert got == seed.receive.get(lane, set()), lane


def test_notifications_reference_messages(case: tuple[Diagram, Seed]) -> None:
    d, _ = case
    messages = {m.get("id"): m.get("name") for m in d.tree.findall("bpmn:message", NS)}
    for e in d.notifications():
        ref = e.find("bpmn:messageEventDefinition", NS).get("messageRef")
        assert ref in messages
        if messages[ref] == "notifikasi_pelapor":
            assert d.lane_of[e.get("id")] == "Pelapor"


def test_user_tasks_have_forms_and_mutu_baku(case: tuple[Diagram, Seed]) -> None:
    d, _ = case
    for t in [*d.of("userTask"), *[s for s in d.of("startEvent") if s.get(CAM + "formKey")]]:
        key = t.get(CAM + "formKey")
        assert key, t.get("id")
        schema_path, ui_path = FORMS_DIR / f"{key}.schema.json", FORMS_DIR / f"{key}.ui.json"
        assert schema_path.exists() and ui_path.exists(), key
        schema = json.loads(schema_path.read_text("utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object" and schema["additionalProperties"] is False and schema["title"]
        for name, prop in schema["properties"].items():
            assert prop.get("title"), (key, name)
            if prop.get("type") == "string" and "enum" not in prop:
                assert "maxLength" in prop, (key, name)
        ui = json.loads(ui_path.read_text("utf-8"))
        assert set(ui["ui:order"]) == set(schema["properties"]), key
        if t.tag.endswith("userTask"):
            assert {"kelengkapan", "waktu", "output"} <= set(props(t)), t.get("id")


def test_timers_match_seed_waktu(case: tuple[Diagram, Seed]) -> None:
    d, seed = case
    boundaries = {b.get("attachedToRef"): b for b in d.of("boundaryEvent") if b.get("cancelActivity") == "false"}
    for t in d.of("userTask"):
        if d.lane_of[t.get("id")] == "Pelapor":
            continue  # the reporter's time limit: test_pelapor_tasks_have_a_time_limit
        steps = langkah(t)
        waktu = {seed.waktu[n] for n in steps if n in seed.waktu}
        b = boundaries.get(t.get("id"))
        if not waktu:
            assert b is None, f"{t.get('id')} has a timer but the seed gives no Waktu"
            continue
        (w,) = waktu
        assert props(t)["waktu"].lower() == w.lower()
        assert b is not None, f"{t.get('id')} lacks its timer ({w})"
        assert b.get("cancelActivity") == "false"
        assert re.fullmatch(expected_timer(w), b.findtext(
            "bpmn:timerEventDefinition/bpmn:timeDuration", namespaces=NS
        ).strip())
        assert props(b).get("eskalasi_ke"), t.get("id")
        (out,) = b.findall("bpmn:outgoing", NS)
        target = d.nodes[d.flows[out.text].get("targetRef")]
        if target.tag.endswith("exclusiveGateway"):  # the lane's timers meet before its escalation end
            (out,) = target.findall("bpmn:outgoing", NS)
            target = d.nodes[d.flows[out.text].get("targetRef")]
        assert target.tag.endswith("endEvent") and target.get("name").startswith("Eskalasi SLA")
        assert d.lane_of[target.get("id")] == d.lane_of[t.get("id")], "one escalation end per lane"
    assert set(boundaries) <= {t.get("id") for t in d.of("userTask")}
    cycles = [c.text for c in d.proc.findall("bpmn:startEvent/bpmn:timerEventDefinition/bpmn:timeCycle", NS)]
    assert cycles == ([seed.period] if seed.period else [])


def test_gateways_have_defaults_and_conditions_on_form_fields(case: tuple[Diagram, Seed]) -> None:
    d, _ = case
    forms = d.forms_of_process()
    fields = {name: prop for f in forms.values() for name, prop in f["properties"].items()}
    fields.update(d.decision_outputs())  # a gateway after a business rule task routes on the table's result
    for g in d.of("exclusiveGateway"):
        outs = [f for f in d.flows.values() if f.get("sourceRef") == g.get("id")]
        if len(outs) < 2:
            continue
        assert g.get("default") in {f.get("id") for f in outs}, g.get("id")
        for f in outs:
            cond = f.findtext("bpmn:conditionExpression", namespaces=NS)
            if f.get("id") == g.get("default"):
                assert cond is None
                continue
            assert cond and "${" not in cond
            for name, value in re.findall(r"(\w+) == (\"[^\"]*\"|True|False)", cond):
                prop = fields[name]
                if value in ("True", "False"):
                    assert prop["type"] == "boolean"
                else:
                    assert value.strip('"') in prop["enum"], (name, value)


def test_call_activities_resolve() -> None:
    d = Diagram("wbs-dpmptsp-kukar")
    (call,) = d.of("callActivity")
    assert call.get("calledElement") == "surat-keluar"
    assert (BPMN_DIR / "surat-keluar.bpmn").exists()


def _bounds(d: Diagram) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for s in d.tree.findall(".//bpmndi:BPMNShape", NS):
        b = s.find("dc:Bounds", NS)
        out[s.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    return out


def test_diagram_interchange(case: tuple[Diagram, Seed]) -> None:
    d, _ = case
    shapes = _bounds(d)
    edges = {e.get("bpmnElement") for e in d.tree.findall(".//bpmndi:BPMNEdge", NS)}
    assert set(d.nodes) <= set(shapes)
    assert set(d.flows) <= edges
    for ln in d.lanes.values():
        assert ln.get("id") in shapes
    attached = {b.get("id"): b.get("attachedToRef") for b in d.of("boundaryEvent")}
    sizes = {"exclusiveGateway": (50, 50)}
    for nid, el in d.nodes.items():
        kind = etree.QName(el).localname
        x, y, w, h = shapes[nid]
        if kind in ("userTask", "businessRuleTask", "callActivity"):  # as large as the name needs (rendering)
            assert w >= 100 and h >= 80, nid
        else:
            assert (w, h) == sizes.get(kind, (36, 36)), nid
        lx, ly, lw, lh = shapes[d.lanes[d.lane_of[nid]].get("id")]
        assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, f"{nid} outside its lane"
    for bid, tid in attached.items():
        bx, by, bw, bh = shapes[bid]
        tx, ty, tw, th = shapes[tid]
        assert by + bh / 2 == ty + th and tx <= bx + bw / 2 <= tx + tw, (
            f"{bid} not on the task's bottom border"
        )
    ids = sorted(d.nodes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if d.lane_of[a] != d.lane_of[b] or attached.get(a) == b or attached.get(b) == a:
                continue
            ax, ay, aw, ah = shapes[a]
            bx, by, bw, bh = shapes[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a} overlaps {b}"


# --- what the reporter is owed (issue 10) ----------------------------------------------------------

NOTIFY_REPORTER = "notifikasi_pelapor"
MODES = {"anonim", "rahasia", "biasa"}
IDENTITY_FIELDS = {"nama", "nik", "alamat", "telepon", "email", "pekerjaan"}
REASON_MIN = 10
#: form -> (decision field, value, the written reasons that choice requires): every exit that ends,
#: rejects, returns or forwards a report.
REASONS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "wbs-kebumen-cek-administrasi": [("kelengkapan_administrasi", "tidak lengkap", ("kekurangan_laporan",))],
    "wbs-kebumen-cek-dokumen": [("kelengkapan_dokumen", "tidak lengkap", ("kekurangan_laporan",))],
    "dinsos-online-verifikasi": [("hasil_verifikasi_pesan", "tidak terkait pengaduan", ("alasan_bukan_pengaduan",))],
    "dumas-verifikasi": [("hasil_verifikasi", "tidak lengkap", ("kekurangan_laporan",)),
                         ("hasil_verifikasi", "tidak dapat diproses", ("alasan_tidak_dapat_diproses",))],
    "dumas-penelaahan": [("kategori_telaah", "tidak berkadar pengawasan atau tidak logis", ("alasan_kategori",)),
                         ("kategori_telaah", "bukan kewenangan", ("alasan_kategori",))],
}


def _message_name(d: Diagram, event: etree._Element) -> str | None:
    messages = {m.get("id"): m.get("name") for m in d.tree.findall("bpmn:message", NS)}
    ref = event.find("bpmn:messageEventDefinition", NS)
    return None if ref is None else messages.get(ref.get("messageRef"))


def _reporter_notices(d: Diagram) -> list[etree._Element]:
    return [e for e in d.notifications() if _message_name(d, e) == NOTIFY_REPORTER]


def _form_fields(d: Diagram) -> dict[str, dict]:
    return {name: prop for f in d.forms_of_process().values() for name, prop in f["properties"].items()}


def _shown(el: etree._Element) -> list[str]:
    return [name.strip() for name in props(el).get("tampilkan", "").split(",") if name.strip()]


def _successors(d: Diagram, node_id: str) -> list[str]:
    """Sequence-flow targets of a node, plus the boundary events attached to it."""
    out = [f.get("targetRef") for f in d.flows.values() if f.get("sourceRef") == node_id]
    return out + [b.get("id") for b in d.of("boundaryEvent") if b.get("attachedToRef") == node_id]


def _is_reporter_sop(d: Diagram) -> bool:
    return any(d.lane_of[s.get("id")] == "Pelapor" for s in d.of("startEvent"))


def test_reporter_notices_publish_fields_of_the_forms(case: tuple[Diagram, Seed]) -> None:
    """Every notice to the reporter and every Pelapor task names what the reporter reads (``tampilkan``),
    and each name is a field of one of the process's forms (so it has a label)."""
    d, _ = case
    fields = _form_fields(d)
    shown = [*_reporter_notices(d), *[t for t in d.of("userTask") if d.lane_of[t.get("id")] == "Pelapor"]]
    for el in shown:
        assert _shown(el), f"{el.get('id')} publishes nothing to the reporter"
        assert set(_shown(el)) <= set(fields), (el.get("id"), set(_shown(el)) - set(fields))


def test_every_way_out_of_a_report_passes_a_notice_to_the_reporter(case: tuple[Diagram, Seed]) -> None:
    """No end event (other than an SLA escalation) is reachable from the reporter's start without a
    ``notifikasi_pelapor`` notice on the way: the reporter hears how every report ends."""
    d, _ = case
    if not _is_reporter_sop(d):
        return
    notices = {e.get("id") for e in _reporter_notices(d)}
    sla = {b.get("id") for b in d.of("boundaryEvent") if b.get("cancelActivity") == "false"}
    todo = [s.get("id") for s in d.of("startEvent")]
    seen: set[str] = set()
    while todo:
        node = todo.pop()
        if node in seen or node in notices or node in sla:
            continue
        seen.add(node)
        assert not d.nodes[node].tag.endswith("endEvent"), f"{node} ends a report without telling the reporter"
        todo += _successors(d, node)


def test_pelapor_tasks_have_a_time_limit_after_which_the_case_moves_on(case: tuple[Diagram, Seed]) -> None:
    d, seed = case
    pelapor = {t.get("id"): t for t in d.of("userTask") if d.lane_of[t.get("id")] == "Pelapor"}
    assert set(pelapor) == set(seed.deadlines)
    notices = {e.get("id"): e for e in _reporter_notices(d)}
    for task_id, timer in seed.deadlines.items():
        (b,) = [b for b in d.of("boundaryEvent") if b.get("attachedToRef") == task_id]
        assert b.get("cancelActivity") == "true", f"{task_id}: the time limit must interrupt the task"
        assert b.findtext("bpmn:timerEventDefinition/bpmn:timeDuration", namespaces=NS).strip() == timer
        assert props(pelapor[task_id])["waktu"] == expected_waktu(timer)
        (out,) = b.findall("bpmn:outgoing", NS)
        target = d.flows[out.text].get("targetRef")
        assert target in notices and _shown(notices[target]), f"{task_id}: the reporter is told the case moved on"


def expected_waktu(timer: str) -> str:
    m = re.fullmatch(r"hari_kerja\((\d+)\)", timer)
    assert m, timer
    return f"{m.group(1)} hari kerja"


def test_decision_fields_are_an_explicit_choice(case: tuple[Diagram, Seed]) -> None:
    """No form field has a default value; a field a gateway decides on is required by its form."""
    d, _ = case
    forms = d.forms_of_process()
    for key, schema in forms.items():
        for name, prop in schema["properties"].items():
            assert "default" not in prop, (key, name)
    decided = {name for f in d.flows.values()
               for name, _ in re.findall(r"(\w+) == (\"[^\"]*\"|True|False)",
                                         f.findtext("bpmn:conditionExpression", default="", namespaces=NS))}
    decided = (decided - set(d.decision_outputs())) | d.decision_inputs()
    for name in decided:
        owners = [key for key, schema in forms.items() if name in schema["properties"]]
        assert owners and all(name in forms[key]["required"] for key in owners), (name, owners)


def _exits(d: Diagram) -> set[tuple[str, str]]:
    """(field, value) of every gateway branch that ends the report or hands it back to the reporter
    before any staff task: from its target, an end event or a Pelapor task is reached first."""
    found = set()
    for f in d.flows.values():
        cond = f.findtext("bpmn:conditionExpression", default="", namespaces=NS)
        todo, seen = [f.get("targetRef")], set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            el = d.nodes[node]
            tag = etree.QName(el).localname
            if tag == "endEvent" or (tag == "userTask" and d.lane_of[node] == "Pelapor"):
                found.update(re.findall(r'(\w+) == "([^"]*)"', cond))
                break
            if tag in ("userTask", "callActivity"):
                continue
            todo += [t.get("targetRef") for t in d.flows.values() if t.get("sourceRef") == node]
    return found


def test_every_exit_that_ends_or_returns_a_report_is_in_the_reasons_table(case: tuple[Diagram, Seed]) -> None:
    d, _ = case
    forms = d.forms_of_process()
    listed = {(name, value) for key in forms for name, value, _ in REASONS.get(key, [])}
    assert _exits(d) <= listed, _exits(d) - listed
    for key in forms:
        for name, value, _ in REASONS.get(key, []):
            assert value in forms[key]["properties"][name]["enum"], (key, name, value)


@pytest.mark.parametrize(("key", "decision", "value", "reasons"),
                         [(key, *entry) for key, entries in sorted(REASONS.items()) for entry in entries])
def test_the_choice_needs_its_written_reason(key: str, decision: str, value: str, reasons: tuple[str, ...]) -> None:
    schema = json.loads((FORMS_DIR / f"{key}.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema)
    data = form(key, **{decision: value})
    assert validator.is_valid(data)
    for reason in reasons:
        assert schema["properties"][reason]["minLength"] >= REASON_MIN
        missing = [e.message for e in validator.iter_errors(without(data, reason))]
        assert missing == [f"'{reason}' is a required property"], (key, reason, missing)
        short = [list(e.absolute_path) for e in validator.iter_errors({**data, reason: "x" * (REASON_MIN - 1)})]
        assert short == [[reason]], (key, reason, short)


def _multi_instance(task: etree._Element) -> tuple[str, str] | None:
    """(collection, element variable) of a multi-instance user task over a case field."""
    loop = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if loop is None or loop.get(CAM + "collection") is None:
        return None
    return loop.get(CAM + "collection", ""), loop.get(CAM + "elementVariable", "")


def test_dispositions_route_to_the_offices_sub_units(case: tuple[Diagram, Seed]) -> None:
    """A task the seed disposes to a bidang / unit kerja carries ``tujuan_unit``, whose field is an enum
    of exactly the codes of the office's bundled sub-units; a disposition to several bidang at once is a
    multi-instance task over a list of those codes, routed by its element variable."""
    d, seed = case
    tasks = {t.get("id"): t for t in d.of("userTask")}
    routed = {task_id: props(t)["tujuan_unit"] for task_id, t in tasks.items() if "tujuan_unit" in props(t)}
    assert routed == seed.routes
    fields = _form_fields(d)
    for task_id, field_name in routed.items():
        multi = _multi_instance(tasks[task_id])
        if multi is not None:
            collection, variable = multi
            assert field_name == variable, task_id
            assert fields[collection]["type"] == "array" and fields[collection]["uniqueItems"], collection
            field_name, enum = collection, fields[collection]["items"]["enum"]
        else:
            enum = fields[field_name]["enum"]
        assert enum == [unit.code for unit in SUB_UNITS[seed.unit]], field_name


def test_process_policy_follows_the_seed(case: tuple[Diagram, Seed]) -> None:
    d, seed = case
    meta = props(d.proc)
    for name in ("pengawas", "mode_pelapor", "identitas_wajib", "data_identitas"):
        assert meta.get(name, "") == seed.policy.get(name, ""), name
    assert set(filter(None, meta.get("mode_pelapor", "").split(","))) <= MODES
    starts = [s.get(CAM + "formKey") for s in d.of("startEvent") if s.get(CAM + "formKey")]
    start_fields = {name for key in starts
                    for name in json.loads((FORMS_DIR / f"{key}.schema.json").read_text("utf-8"))["properties"]}
    identifying = set(filter(None, meta.get("data_identitas", "").split(",")))
    assert identifying <= start_fields
    required = set(filter(None, re.split(r"[,|]", meta.get("identitas_wajib", ""))))
    assert required <= IDENTITY_FIELDS | identifying
    pengawas = set(filter(None, meta.get("pengawas", "").split(",")))
    assert pengawas <= set(d.lanes) | {"Kepala Dinas", "Inspektur"}, pengawas


def test_the_eselon_ii_of_the_reported_unit_reads_only_the_complaint_and_the_memo() -> None:
    d = Diagram("dumas-inspektorat-katingan")
    (task,) = [t for t in d.of("userTask") if t.get("id") == "Task_tindak_lanjut_eselon2"]
    shown = set(_shown(task))
    assert {"uraian", "lokasi_kasus", "memo_kepala_inspektorat"} <= shown
    verifier = set(json.loads((FORMS_DIR / "dumas-verifikasi.schema.json").read_text("utf-8"))["properties"])
    reporter_later = set(json.loads((FORMS_DIR / "dumas-melengkapi.schema.json").read_text("utf-8"))["properties"])
    hidden = IDENTITY_FIELDS | verifier | reporter_later
    assert not shown & hidden, shown & hidden


# --- the corrections of issue 11, each traceable to the seed's words ---------------------------------

def _documentation(d: Diagram) -> str:
    return " ".join(d.proc.findtext("bpmn:documentation", default="", namespaces=NS).split())


def test_000_has_no_per_case_no_complaint_exit_and_the_daily_check_is_quoted() -> None:
    d = Diagram("wbs-dpmptsp-kukar")
    assert '"Kasi memeriksa kotak pengaduan dan website setiap hari, jika tidak ada keluhan maka aktifitas ' \
           'selesai, jika ada maka akan diproses"' in _documentation(d)
    # langkah 2 leads straight to langkah 3: every aduan found is processed
    (pemeriksaan,) = [t for t in d.of("userTask") if langkah(t) == {2}]
    assert [f.get("targetRef") for f in d.flows.values() if f.get("sourceRef") == pemeriksaan.get("id")] == [
        t.get("id") for t in d.of("userTask") if langkah(t) == {3}]
    assert len([e for e in d.of("endEvent") if not e.get("name", "").startswith("Eskalasi SLA")]) == 1


def test_000_d2_branches_on_the_kabids_own_field() -> None:
    """ "Jika keluhan/aduan untuk bidang informasi … maka kabid menjawab": the Kabid decides at langkah 4."""
    d = Diagram("wbs-dpmptsp-kukar")
    assert '"Jika keluhan/aduan untuk bidang informasi, rekomendasi teknik dan evaluasi layanan maka kabid ' \
           'menjawab aduan masyarakat/pemohon pada form Whistle Blower System"' in _documentation(d)
    (disposisi,) = [t for t in d.of("userTask") if langkah(t) == {4}]
    assert d.lane_of[disposisi.get("id")] == "Kabid"
    kabid_fields = set(json.loads((FORMS_DIR / f"{disposisi.get(CAM + 'formKey')}.schema.json")
                                  .read_text("utf-8"))["properties"])
    kasi_fields = {name for t in d.of("userTask") if d.lane_of[t.get("id")] == "Kasi"
                   for name in json.loads((FORMS_DIR / f"{t.get(CAM + 'formKey')}.schema.json")
                                          .read_text("utf-8"))["properties"]}
    (gateway,) = [g for g in d.of("exclusiveGateway") if disposisi.get("id") in
                  [f.get("sourceRef") for f in d.flows.values() if f.get("targetRef") == g.get("id")]]
    decided = {name for f in d.flows.values() if f.get("sourceRef") == gateway.get("id")
               for name in re.findall(r"(\w+) ==", f.findtext("bpmn:conditionExpression", default="",
                                                               namespaces=NS))}
    assert decided and decided <= kabid_fields and not decided & kasi_fields, decided


def test_the_letter_is_sent_once_by_the_kasi_in_langkah_9() -> None:
    surat_keluar = Diagram("surat-keluar")
    assert "langkah 9" in _documentation(surat_keluar) and "It does not send the letter" in \
        _documentation(Diagram("wbs-dpmptsp-kukar"))
    forms = [t.get(CAM + "formKey") for t in surat_keluar.of("userTask")]
    assert forms == ["surat-keluar-registrasi"] and not (FORMS_DIR / "surat-keluar-pengiriman.schema.json").exists()


def test_004_sixty_days_run_from_the_sekretariats_receipt() -> None:
    d = Diagram("dumas-inspektorat-katingan")
    assert '"Pengaduan ditindak lanjut dilakukan dalam jangka waktu paling lama 60 hari sejak pengaduan telah ' \
           'melewati proses penelaahan dan diterima oleh bagian sekretariat Inspektorat"' in _documentation(d)
    (langkah4,) = [t for t in d.of("userTask") if langkah(t) == {4}]
    (langkah5,) = [t for t in d.of("userTask") if langkah(t) == {5}]
    (timer,) = [b for b in d.of("boundaryEvent") if b.get("attachedToRef") == langkah5.get("id")]
    text = timer.findtext("bpmn:timerEventDefinition/bpmn:timeDuration", namespaces=NS).strip()
    m = re.fullmatch(r"hari_kalender\(60, (\w+)\)", text)
    assert m, text
    schema = json.loads((FORMS_DIR / f"{langkah4.get(CAM + 'formKey')}.schema.json").read_text("utf-8"))
    assert d.lane_of[langkah4.get("id")] == "Sekretariat Inspektorat"
    assert schema["properties"][m.group(1)]["format"] == "date" and m.group(1) in schema["required"]


def test_004_the_inspektur_sends_the_file_to_the_other_agency() -> None:
    d = Diagram("dumas-inspektorat-katingan")
    assert '"Kepala Inspektorat mengirimkan seluruh data/dokumen pengaduan yang ada ditambah dengan memo Kepala ' \
           'Inspektorat dan/atau laporan hasil penelaahan pengaduan untuk bisa ditindaklanjuti oleh instansi yang ' \
           'terkait"' in _documentation(d)
    (langkah8,) = [t for t in d.of("userTask") if langkah(t) == {8}]
    assert d.lane_of[langkah8.get("id")] == "Inspektur" and "Instansi Lain" not in d.lanes
