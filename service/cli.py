"""``alur`` — the command line for operators: database, units, users, deploy, demo, serve, worker."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy import select

from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.commands import accounts
from service.commands import users as user_commands
from service.commands.audit import AUDIT_FIELDS, AuditPeriod, audit_rows, verify_all, verify_case
from service.commands.calendars import CLOSED_DAY_KINDS, add_closed_day
from service.commands.context import ADMIN_ROLE, PROCESS_OWNER_ROLE, Actor, Services
from service.commands.definitions import DeployRequest, deploy
from service.commands.export import export
from service.commands.history import ChainCheck
from service.commands.identity import IdentityVault, new_key
from service.commands.passwords import hash_password
from service.commands.revisions import APPROVER_ROLE
from service.commands.spreadsheets import csv_lines, jsonl_lines
from service.config import ConfigError, Settings
from service.engine import outline, properties
from service.engine.compiler import steps
from service.engine.deploy_checks import CAMUNDA_NS
from service.engine.safe_xml import parse_xml
from service.errors import ServiceError
from service.store.db import Database
from service.store.migrate import upgrade
from service.store.models import Definition, Membership, Unit, User
from service.store.states import RevisionStatus

SYSTEM = Actor(user_id=0, username="system:cli", is_admin=True, roles_by_unit={})
#: the roles ``alur demo`` gives a user of in every bundled office, besides those its SOPs name: the
#: office's administrator, the approver and process owner of its SOP revisions, and its pengawas
DEMO_OFFICE_ROLES = (ADMIN_ROLE, APPROVER_ROLE, PROCESS_OWNER_ROLE, properties.SUPERVISORS)
#: demo users' mail goes to ``<username>@`` this reserved domain (RFC 2606): in `make run`, to the catcher
DEMO_MAIL_DOMAIN = "demo.alur.example"


def _services() -> Services:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return Services(db=Database(settings.database_url), settings=settings)


def _fail(error: ServiceError) -> click.ClickException:
    details = "".join(f"\n  - {d}" for d in error.details)
    return click.ClickException(f"{error.message}{details}")


@click.group()
def main() -> None:
    """Alur: BPMN orchestration of complaint-handling SOPs."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    settings = Settings.from_env()
    upgrade(settings.database_url)
    click.echo("database is up to date")


@main.group()
def units() -> None:
    """Offices."""


@units.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--timezone", default=None, help="IANA zone; default Asia/Jakarta, or the office's for a sub-unit")
@click.option("--parent", default=None, help="the office this sub-unit (bidang, unit kerja) belongs to")
def units_create(code: str, name: str, timezone: str | None, parent: str | None) -> None:
    """Create a unit (office), or with --parent a sub-unit that tasks can be routed to."""
    try:
        accounts.create_unit(_services(), code, name, timezone, parent)
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"sub-unit {code} of {parent} created" if parent else f"unit {code} created")


@units.command("closed-day")
@click.argument("code")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--kind", default="cuti_bersama", show_default=True, type=click.Choice(CLOSED_DAY_KINDS))
@click.option("--note", default="")
def units_closed_day(code: str, day: datetime, kind: str, note: str) -> None:
    """Add a day the unit's office is closed (cuti bersama, local holiday)."""
    try:
        add_closed_day(_services(), SYSTEM, code, day.date(), kind, note)
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"{day:%Y-%m-%d} is a closed day of {code}")


@main.group()
def users() -> None:
    """User accounts."""


PASSWORD_FILE = click.option("--password-file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
                             help="read the password from the first line of this file ('-' for stdin)")


def _password(password_file: str | None, given: str | None = None) -> str:
    """From ``--password-file`` (``-`` is stdin), else ``--password``, else a hidden prompt typed twice."""
    if password_file is not None:
        with click.open_file(password_file, encoding="utf-8") as stream:
            return str(stream.readline()).rstrip("\r\n")
    if given is not None:
        return given
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("create")
@click.argument("username")
@click.option("--password", default=None, help="visible to other local users in the process list: "
              "prefer --password-file or the prompt")
@PASSWORD_FILE
@click.option("--role", "roles", multiple=True, help="ROLE@UNIT, repeatable")
@click.option("--admin", is_flag=True, help="may do everything in every unit")
def users_create(username: str, password: str | None, password_file: str | None, roles: tuple[str, ...],
                 admin: bool) -> None:
    """Create a user with roles in units."""
    try:
        accounts.create_user(_services(), username, _password(password_file, password), list(roles),
                             is_admin=admin, actor=SYSTEM)
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"user {username} created")


@users.command("password")
@click.argument("username")
@PASSWORD_FILE
def users_password(username: str, password_file: str | None) -> None:
    """Set a new password (prompted, or from --password-file); the user's sessions and tokens end."""
    try:
        user_commands.reset_password(_services(), SYSTEM, username, _password(password_file))
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"password of {username} changed; its sessions and tokens have ended")


def _on_account(action: Callable[[Services, Actor, str], object], username: str, done: str) -> None:
    """Run an account command as the CLI's system actor; a refusal exits non-zero with its message."""
    try:
        action(_services(), SYSTEM, username)
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(done)


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable an account: its sessions and tokens end at once."""
    _on_account(user_commands.disable, username, f"user {username} disabled")


@users.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Enable an account again."""
    _on_account(user_commands.enable, username, f"user {username} enabled")


@users.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Clear the wrong-password delay of an account."""
    _on_account(user_commands.unlock, username, f"user {username} unlocked")


def _dependency_order(files: list[Path]) -> list[Path]:
    """Called SOPs first, so a call activity finds its target already deployed."""
    outlines = {path: outline(path.read_bytes()) for path in files}
    keys = {o.key: path for path, o in outlines.items()}
    ordered: list[Path] = []

    def visit(path: Path, trail: tuple[Path, ...] = ()) -> None:
        if path in ordered or path in trail:
            return
        for called in outlines[path].called_elements:
            if called in keys:
                visit(keys[called], (*trail, path))
        ordered.append(path)

    for path in files:
        visit(path)
    return ordered


@main.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", default=None, help="unit code (default: the diagram's 'unit' property)")
def deploy_command(files: tuple[Path, ...], unit: str | None) -> None:
    """Deploy BPMN files (same bytes again → same revision); a business rule task's decision table is
    the ``<decisionRef>.dmn`` file next to its diagram."""
    services = _services()
    try:
        for path in _dependency_order(list(files)):
            data = path.read_bytes()
            decisions = {dmn.name: dmn.read_bytes() for ref in sorted(outline(data).decision_refs)
                         if (dmn := path.parent / f"{ref}.dmn").is_file()}
            definition, created = deploy(services, SYSTEM, DeployRequest(bpmn=data, unit=unit, decisions=decisions))
            state = "deployed" if created else "unchanged"
            click.echo(f"{path.name}: {definition.key} v{definition.version} ({state})")
    except ServiceError as exc:
        raise _fail(exc) from exc


@main.command("export")
@click.argument("key")
@click.option("--version", "number", type=int, default=None, help="revision number (default: the newest active)")
@click.option("--unit", default=None, help="the unit the SOP belongs to (a check)")
@click.option("--bpmn-dir", default="bpmn", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--forms-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="default: the forms directory deploys read (ALUR_FORMS_DIR)")
def export_command(key: str, number: int | None, unit: str | None, bpmn_dir: Path, forms_dir: Path | None) -> None:
    """Write a revision's BPMN and forms back to bpmn/ and forms/ (deploying them again: same checksum)."""
    services = _services()
    try:
        done = export(services, key, bpmn_dir, forms_dir or services.settings.forms_dir, version=number, unit=unit)
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"{done.key} v{done.version} ({done.status}, {done.checksum[:12]}) -> {done.bpmn}, "
               f"{len(done.forms)} form file(s), {len(done.decisions)} decision table(s)")


@main.command("demo")
@click.option("--bpmn-dir", default="bpmn", type=click.Path(file_okay=False, path_type=Path))
def demo(bpmn_dir: Path) -> None:
    """Units of the bundled SOPs and their sub-units, the SOPs themselves, and one demo user per role each
    SOP names (lanes, pengawas, escalation targets; routed lanes per sub-unit), passwords printed."""
    services = _services()
    with services.db.transaction() as session:
        for office in BUNDLED_OFFICES:
            unit = session.scalar(select(Unit).where(Unit.code == office.code))
            if unit is None:
                unit = Unit(code=office.code, name=office.name, timezone=office.timezone,
                            # a demo contact for reporters, clearly not the office's real one
                            contact_phone="0800-0000-000 (demo)",
                            contact_email=f"pengaduan@{office.code}.{DEMO_MAIL_DOMAIN}",
                            contact_address=f"Alamat contoh {office.name} (data demo)")
                session.add(unit)
                session.flush()
            for sub in SUB_UNITS.get(office.code, ()):
                if session.scalar(select(Unit).where(Unit.code == sub.code)) is None:
                    session.add(Unit(code=sub.code, name=sub.name, timezone=sub.timezone, parent_id=unit.id))
    files = tuple(sorted(bpmn_dir.glob("*.bpmn")))
    if files:
        deploy_command.callback(files, None)  # type: ignore[misc]
    roles = {(office.code, role) for office in BUNDLED_OFFICES for role in DEMO_OFFICE_ROLES}
    with services.db.reading() as session:
        for definition in session.scalars(select(Definition).where(Definition.status == RevisionStatus.ACTIVE.value)):
            roles.update(_demo_roles(definition.unit.code, definition.bpmn_xml.encode()))
    click.echo("Demo accounts (passwords are new on every run):")
    _demo_user(services, "admin", [], admin=True)
    for unit_code, role in sorted(roles):
        _demo_user(services, f"{role.lower().replace(' ', '-')}.{unit_code}", [f"{role}@{unit_code}"])


def _demo_roles(unit_code: str, bpmn: bytes) -> set[tuple[str, str]]:
    """(unit, role) of every role an SOP names: its lanes, its ``pengawas`` and the roles its SLA timers
    escalate to, in the office; a lane whose tasks all go to a sub-unit (``tujuan_unit``), in each
    sub-unit of the office instead."""
    found = outline(bpmn)
    tasks = steps(bpmn)
    routed = {task.lane for task in tasks if task.lane and properties.ROUTE_FIELD in task.properties}
    routed -= {task.lane for task in tasks if task.lane and properties.ROUTE_FIELD not in task.properties}
    office_roles = {*found.lanes, *properties.listed(found.metadata, properties.SUPERVISORS)} - routed
    office_roles.update(parse_xml(bpmn).xpath(f"//camunda:property[@name='{properties.ESCALATE_TO}']/@value",
                                              namespaces={"camunda": CAMUNDA_NS}))
    roles = {(unit_code, role) for role in office_roles if role}
    roles.update((sub.code, lane) for lane in routed for sub in SUB_UNITS.get(unit_code, ()))
    return roles


def _demo_user(services: Services, username: str, roles: list[str], admin: bool = False) -> None:
    """Create the user with a demo address (task and escalation mail reach it), or give an existing one a
    new password."""
    password = secrets.token_urlsafe(9)
    email = accounts.check_email(f"{username}@{DEMO_MAIL_DOMAIN}")
    with services.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, password_hash=hash_password(password), is_admin=admin,
                        display_name=username, email=email)
            session.add(user)
            session.flush()
            for spec in roles:
                role, code = accounts.parse_role_spec(spec)
                session.add(Membership(user_id=user.id, unit_id=accounts.unit_by_code(session, code).id,
                                       role=role))
        else:
            user.password_hash = hash_password(password)
            user.credential_version = User.credential_version + 1  # the old password's sessions end
            user.email = user.email or email
    click.echo(f"  {username:45s} {password}  {' '.join(roles) or '(admin of every unit)'}  <{email}>")


@main.group()
def keys() -> None:
    """Encryption keys of reporter identities."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Print a new identity key, and re-encrypt every identity with the newest configured key.

    Rotation: put the printed key first in ALUR_IDENTITY_KEYS (keep the old ones after it), restart,
    run ``alur keys rotate`` again to re-encrypt, then drop the old keys.
    """
    services = _services()
    with services.db.transaction() as session:
        count = IdentityVault.of(services.settings).rotate(session)
    click.echo(f"re-encrypted {count} identities with the newest key")
    click.echo(f"a fresh key for the next rotation: {new_key()}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--with-worker", is_flag=True, help="also run `alur worker` beside the server (as `make run` does)")
@click.option("--worker-interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds between the worker's sweeps (with --with-worker)")
def serve(host: str, port: int, with_worker: bool, worker_interval: float) -> None:
    """Serve the API and pages (development server; in production: `python -m service.serve`, granian)."""
    from service.app import create_app

    app = create_app()
    if not with_worker:
        app.run(host=host, port=port, threaded=True, request_handler=_request_handler())
        return
    from service.serve_with_worker import serve_with_worker

    serve_with_worker(lambda: app.run(host=host, port=port, threaded=True, request_handler=_request_handler()),
                      worker_interval)


def _request_handler() -> type:
    """werkzeug's request log without the client's address (public endpoints keep no IP addresses).

    ``log`` is overridden, not ``address_string``: werkzeug also fills ``REMOTE_ADDR`` from the
    latter, and the rate limiter needs it (as a salted hash, in memory) to tell clients apart.
    """
    import logging

    from werkzeug.serving import WSGIRequestHandler

    class NoAddressRequestHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: object) -> None:
            getattr(logging.getLogger("werkzeug"), type)(f"- - - [{self.log_date_time_string()}] {message}", *args)

    return NoAddressRequestHandler


@main.command("worker")
@click.option("--once", is_flag=True, help="fire every due timer, then exit")
@click.option("--interval", default=5.0, show_default=True, help="seconds between sweeps")
@click.option("--name", default=None, help="worker name; its history entries say system:timer:NAME")
def worker(once: bool, interval: float, name: str | None) -> None:
    """Start periodic SOPs, fire due timers (SLA boundaries, waits, cycles), send the outbox's mail."""
    import logging

    from service import logs
    from service.commands.timers import worker_actor
    from service.mail import mailer_for
    from service.worker.loop import run_forever, run_once

    logs.configure()
    services = _services()
    mailer = mailer_for(services.settings)
    if mailer is None:
        logging.getLogger("alur.mail").info("ALUR_SMTP_HOST is not set: mail waits in the outbox")
    if once:
        run_once(services, actor=worker_actor(name), mailer=mailer)
        return
    run_forever(services, interval, actor=worker_actor(name), mailer=mailer)


@main.group()
def history() -> None:
    """The tamper-evident case history."""


def _broken_line(check: ChainCheck) -> str:
    broken = check.broken
    assert broken is not None
    where = (f"row {broken.id} (#{broken.position}, {broken.action} at {broken.at.isoformat() if broken.at else '?'})"
             if broken.id is not None else f"after row #{broken.position - 1}")
    reason = {"altered": "its content does not match its hash",
              "link": "it does not link to the row before it (a row was removed, added or re-hashed)",
              "head": "rows are missing at the end (the case's head names a row that is gone)"}[broken.reason]
    return f"case {check.case_id}: broken at {where}: {reason}"


@history.command("verify")
@click.argument("case_id", required=False)
def history_verify(case_id: str | None) -> None:
    """Check the hash chain of one case, or of every case; exit status 1 names the first broken row."""
    services = _services()
    try:
        checks = [verify_case(services, SYSTEM, case_id)] if case_id else verify_all(services)
        cases = rows = 0
        broken = []
        for check in checks:
            cases, rows = cases + 1, rows + check.rows
            if not check.intact:
                broken.append(check)
                click.echo(_broken_line(check), err=True)
    except ServiceError as exc:
        raise _fail(exc) from exc
    if broken:
        raise SystemExit(1)
    click.echo(f"history intact: {cases} case(s), {rows} row(s)")


@main.group("archive")
def archive_group() -> None:
    """Archives of completed cases and the retention purge."""


@archive_group.command("build")
@click.argument("case_id", required=False)
def archive_build(case_id: str | None) -> None:
    """Archive one completed case, or every completed case that has none yet."""
    from service.commands.archive import archive_completed, build_archive

    services = _services()
    try:
        if case_id:
            found = build_archive(services, case_id)
            click.echo(f"{found.label}: {found.path} ({found.size} bytes, sha256 {found.sha256})")
        else:
            total = 0
            while done := archive_completed(services, limit=50):
                total += done
            click.echo(f"archived {total} case(s)")
    except ServiceError as exc:
        raise _fail(exc) from exc


@archive_group.command("purge")
@click.option("--apply", is_flag=True, help="purge for real (default: a dry run that only lists)")
def archive_purge(apply: bool) -> None:
    """Purge the personal data of completed cases past their SOP's retention (retensi_tahun)."""
    from service.commands.retention import purge

    listed = purge(_services(), dry_run=not apply)
    for case in listed:
        click.echo(f"{case.label}\t{case.unit}\t{case.sop}\tcompleted {case.completed_at:%Y-%m-%d}\t"
                   f"{case.retention_years} y\t{case.attachments} attachment(s)\t"
                   f"identity {'yes' if case.has_identity else 'no'}")
    click.echo(f"{'purged' if apply else 'would purge'} {len(listed)} case(s)")


@main.group("audit")
def audit_group() -> None:
    """The audit log of a unit, for the Inspektorat."""


@audit_group.command("export")
@click.option("--unit", "unit_code", required=True, help="unit code")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first day (YYYY-MM-DD)")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="last day, inclusive")
@click.option("--format", "form", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-", help="file (default: stdout)")
def audit_export(unit_code: str, first: datetime, last: datetime, form: str, output: TextIO) -> None:
    """Write the unit's case history rows (with their hashes) and account, unit and revision events."""
    try:
        rows = audit_rows(_services(), SYSTEM, AuditPeriod(unit_code, first.date(), last.date()))
        for line in (csv_lines if form == "csv" else jsonl_lines)(AUDIT_FIELDS, rows):
            output.write(line)
    except ServiceError as exc:
        raise _fail(exc) from exc


@main.group()
def bench() -> None:
    """Load for measurements (not for a production database)."""


@bench.command("seed")
@click.option("--cases", type=click.IntRange(1, 5_000_000), required=True, help="open cases to add")
@click.option("--units", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="units to spread them over (the SOPs' own, then bench-unit-NN)")
def bench_seed(cases: int, units: int) -> None:
    """Bulk-insert open cases, one ready task each, over units and the lanes of the active SOPs."""
    from service.commands.bench_seed import seed

    try:
        report = seed(_services(), cases, units)
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"{report.cases} open cases in {len(report.units)} units, lanes {', '.join(report.lanes)}: "
               f"{report.seconds:.1f} s")


if __name__ == "__main__":  # `python -m service.cli`, as the tests run it: the same commands, named alur
    sys.exit(main(prog_name="alur"))
