"""The published-outcome test SOP (``tests/data/published_outcome.bpmn``, issue 10) and its steps.

A public report (Pelapor start) reaches the Kasi's "Menanggapi laporan"; ``keputusan`` decides:
``dijawab`` → a throw event publishes ``tanggapan`` and ``surat_balasan`` to the reporter; ``ditolak``
→ a message end event publishes ``alasan``; ``kurang`` → the reporter's "Melengkapi laporan" (showing
``kekurangan_laporan``), then back to the Kasi. ``catatan_internal`` is a file the reporter never gets.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from support.helpers import TESTS, Persona

BPMN = TESTS / "data" / "published_outcome.bpmn"
FORMS = TESTS / "data" / "published_outcome.forms.json"
KEY = "uji-tanggapan"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
REPLY = "Pungutan di loket telah dihentikan.\nPetugas yang bersangkutan telah diberi sanksi <b>teguran</b>."
REASON = "Laporan tidak memuat waktu, tempat, dan pihak yang dilaporkan."
QUESTION = "Mohon sebutkan tanggal kejadian dan nama loketnya."
IDENTITY = {"nama": "Dewi Lestari", "email": "dewi.lestari@contoh.id"}


def data_url(content: bytes, content_type: str, name: str) -> str:
    return f"data:{content_type};name={name};base64,{base64.b64encode(content).decode()}"


def deploy(client: Any, admin: Persona, bpmn: bytes | None = None, unit: str = "unit-a") -> Any:
    """Deploy the SOP with its forms (uploaded, so it does not depend on the app's forms directory)."""
    return client.post("/api/definitions", headers=admin.headers, content_type="multipart/form-data", data={
        "bpmn": (io.BytesIO(bpmn or BPMN.read_bytes()), BPMN.name),
        "forms": (io.BytesIO(FORMS.read_bytes()), FORMS.name), "unit": unit})


def file_report(client: Any, mode: str = "rahasia", identity: dict[str, str] | None = None) -> tuple[str, str]:
    """A public report; its tracking code and secret."""
    response = client.post("/api/public/reports", json={
        "unit": "unit-a", "definition_key": KEY, "mode": mode,
        "identity": (identity or IDENTITY) if mode != "anonim" else None,
        "data": {"judul": "Pungutan liar di loket", "uraian": "Diminta Rp 50.000 untuk map."}})
    assert response.status_code == 201, response.json
    return response.json["tracking_code"], response.json["secret"]


def complete_kasi_task(client: Any, kasi: Persona, data: dict[str, Any]) -> None:
    """Complete the one open "Menanggapi laporan" task the Kasi sees."""
    items = client.get("/api/tasks", headers=kasi.headers).json["items"]
    assert [item["name"] for item in items] == ["Menanggapi laporan"], items
    done = client.post(f"/api/tasks/{items[0]['id']}/complete", headers=kasi.headers, json={"data": data})
    assert done.status_code == 200, done.json


def answer(client: Any, kasi: Persona) -> None:
    """The Kasi answers: a typed reply, the signed letter (published) and an internal note (not published)."""
    complete_kasi_task(client, kasi, {
        "keputusan": "dijawab", "tanggapan": REPLY,
        "surat_balasan": data_url(PDF, "application/pdf", "surat-balasan.pdf"),
        "catatan_internal": data_url(PDF + b"% internal\n", "application/pdf", "catatan-internal.pdf")})


def follow(client: Any, code: str, secret: str) -> Any:
    return client.get(f"/api/public/reports/{code}", headers={"X-Report-Secret": secret})
