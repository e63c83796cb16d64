"""Kotak Keluar (/admin/outbox): administrators only, each the mail of the units they administer; in
the demo the worker's local catcher keeps each mail's text there, a reporter's address masked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from support.helpers import ROOT, Persona, deploy_file
from support.web import axe_violations, browser_login, sqlite_only

from service.commands.outbox import MAIL_KEY
from service.mail import CatcherMailer, mailer_for
from service.store.models import OutboxItem, Unit
from service.store.states import OutboxStatus
from service.worker.outbox import send_once

DUMAS = ROOT / "bpmn" / "dumas-inspektorat-katingan.bpmn"
REPORT = {"kategori_terlapor": "Aparat Desa", "jenis_laporan": "penyimpangan", "saluran": "surat elektronik",
          "uraian": "Pungutan liar pada pengurusan surat keterangan", "lokasi_kasus": "Desa Tumbang Lahang"}
IDENTITY = {"nama": "Rahmat Hidayat", "nik": "6206011201900002", "email": "rahmat.hidayat@contoh.id",
            "alamat": "Jl. Tjilik Riwut 9", "telepon": "085249900117", "pekerjaan": "Wiraswasta"}


def _escalation(services: Any, unit_code: str, role: str) -> int:
    """An escalation waiting in the outbox for ``role`` of the unit (as a fired SLA timer leaves it)."""
    with services.db.transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        assert unit is not None
        item = OutboxItem(kind="escalation", unit_id=unit.id, recipient_role=role,
                          payload={"element_id": "verifikasi", "timer": "PT10M"})
        session.add(item)
        session.flush()
        return item.id


def test_only_administrators_read_the_outbox_each_of_their_own_units(
        app: Any, units: dict[str, str], make_persona: Callable[..., Persona], sign_in: Callable[..., Any]) -> None:
    services = app.extensions["alur.services"]
    make_persona("admin", admin=True)
    make_persona("admin.a", "admin@unit-a")
    make_persona("kasi.a", "Kasi@unit-a")
    own, other = _escalation(services, "unit-a", "Kabid"), _escalation(services, "unit-b", "Kabid <b>")

    anonymous = app.test_client().get("/admin/outbox")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    kasi = sign_in("kasi.a")
    assert kasi.get("/admin/outbox").status_code == 403
    assert kasi.get(f"/admin/outbox/{own}").status_code == 403
    assert 'href="/admin/outbox"' not in kasi.get("/tasks").text  # no link in the navigation either

    unit_admin = sign_in("admin.a")
    page = unit_admin.get("/admin/outbox")
    assert page.status_code == 200
    assert f'data-outbox-id="{own}"' in page.text and f'data-outbox-id="{other}"' not in page.text
    assert "Kabid @ unit-a" in page.text and "Menunggu" in page.text  # not yet composed: the role it waits for
    assert unit_admin.get(f"/admin/outbox/{other}").status_code == 404
    assert unit_admin.get(f"/admin/outbox/{own}").status_code == 200
    assert 'href="/admin/outbox"' in unit_admin.get("/tasks").text

    everything = sign_in("admin").get("/admin/outbox")
    assert f'data-outbox-id="{own}"' in everything.text and f'data-outbox-id="{other}"' in everything.text
    assert "Kabid &lt;b&gt; @ unit-b" in everything.text  # escaped


def test_the_catcher_keeps_each_mail_for_the_outbox_page_with_the_reporters_address_masked(
        app: Any, admin: Persona, make_persona: Callable[..., Persona], sign_in: Callable[..., Any]) -> None:
    services = app.extensions["alur.services"]
    client = app.test_client()
    assert deploy_file(client, admin, DUMAS).status_code == 201
    make_persona("admin.a", "admin@unit-a")
    receipt = client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": DUMAS.stem,
                                                       "mode": "rahasia", "data": REPORT, "identity": IDENTITY})
    assert receipt.status_code == 201
    services.settings = services.settings.with_overrides({"mail_backend": "catcher"})
    mailer = mailer_for(services.settings)
    assert isinstance(mailer, CatcherMailer)

    assert send_once(services, mailer) == 1
    with services.db.reading() as session:
        item = session.scalars(select(OutboxItem).where(OutboxItem.kind == "receipt")).one()
        assert item.status == OutboxStatus.CAUGHT.value and item.sent_at is not None
        kept = item.payload[MAIL_KEY]
    assert kept["to"] == "r***@contoh.id"  # the row keeps no reporter's address in clear
    assert receipt.json["tracking_code"] in kept["subject"] and receipt.json["tracking_code"] in kept["body"]

    page = sign_in("admin.a").get("/admin/outbox")
    assert page.status_code == 200
    assert "r***@contoh.id" in page.text and IDENTITY["email"] not in page.text
    assert "Ditangkap (demo, tidak dikirim)" in page.text and "Mode demo" in page.text
    opened = sign_in("admin.a").get(f"/admin/outbox/{item.id}")
    assert opened.status_code == 200 and receipt.json["tracking_code"] in opened.text
    assert IDENTITY["email"] not in opened.text and IDENTITY["nama"] not in opened.text


@sqlite_only
def test_the_outbox_fits_a_phone_and_passes_axe(app: Any, units: dict[str, str], make_persona: Callable[..., Persona],
                                                new_page: Callable[..., Any]) -> None:
    services = app.extensions["alur.services"]
    make_persona("admin", admin=True)
    ids = [_escalation(services, "unit-a", "Kepala Bidang Pelayanan Perizinan dan Non Perizinan") for _ in range(30)]
    with services.db.transaction() as session:  # one failed after its last attempt, with a long error
        failed = session.get(OutboxItem, ids[-1])
        assert failed is not None
        failed.status, failed.last_error = OutboxStatus.FAILED.value, "SMTPRecipientsRefused: " + "x" * 300
    page = new_page(bypass_csp=True)
    page.set_viewport_size({"width": 390, "height": 800})
    browser_login(page, "admin")
    page.goto("/admin/outbox")
    assert page.locator("tr[data-outbox-id]").count() == 25  # a page; the oldest five on the next
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    page.get_by_role("link", name="Lebih lama").click()
    assert page.locator("tr[data-outbox-id]").count() == 5
    page.goto(f"/admin/outbox/{ids[-1]}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
