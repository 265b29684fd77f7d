"""`flask` commands: content, users, staff imports, reminders, survey notices, report summaries, the outbox and its worker, one-step setup, and backup and restore."""
from __future__ import annotations

import secrets
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale
from flask_migrate import upgrade

from . import backups, learner_gains
from . import media as stored
from . import summaries
from .content import CourseInvalid, compile_sources, decode_sources, read_media, read_sources
from .content.archive import course_folder
from .content.diff import unified
from .content.lint import lint
from .content.media import MEDIA_FOLDER
from .extensions import db
from .hr import reminders, staff_import
from .hr.assignments import today
from .models import Role, User
from .outbox import lrs
from .outbox import queue as outbox
from .people import invitations, passwords, sessions
from .people.departments import find_or_create
from .publishing import live_course, publish
from .studio import drafts
from .surveys import announcements, answering

content_cli = AppGroup("content", help="Check and publish course files.")
users_cli = AppGroup("users", help="Manage user accounts.")
staff_cli = AppGroup("staff", help="Import staff lists, e.g. a nightly sync from the HR system.")
reminders_cli = AppGroup("reminders", help="E-mail reminders about due and overdue assignments.")
outbox_cli = AppGroup("outbox", help="Mail, group robot posts and statements for the LRS waiting to be sent.")
xapi_cli = AppGroup("xapi", help="Statements for the company's learning record store (LRS).")
surveys_cli = AppGroup("surveys", help="Internal-customer survey rounds.")
reports_cli = AppGroup("reports", help="The summaries HR's reports read.")

DEMO_ACCOUNTS = [
    ("trainee@example.com", "演示学员", Role.TRAINEE, "销售部"),
    ("trainer@example.com", "演示讲师", Role.TRAINER, "人力资源部"),
    ("hr@example.com", "演示HR", Role.HR, "人力资源部"),
    ("admin@example.com", "演示管理员", Role.ADMIN, "信息技术部"),
]
DEMO_DEPARTMENTS = ["销售部", "生产部", "质量部", "人力资源部", "财务部", "信息技术部"]


def _course_dir(directory: str | None) -> Path:
    """The folder holding course.md: as given, or its `lessons/` (as `content export` writes it)."""
    path = Path(directory or current_app.config["COURSE_DIR"])
    if not (path / "course.md").exists() and (path / "lessons" / "course.md").exists():
        return path / "lessons"
    return path


def _print_errors(error: CourseInvalid) -> None:
    for item in error.errors:
        click.echo(str(item), err=True)
    click.echo(f"{len(error.errors)} error(s); nothing was published.", err=True)


@content_cli.command("check")
@click.argument("directory", required=False)
@click.option("--lint", "run_lint", is_flag=True, help="Also warn about cues that give answers away.")
@click.option("--strict", is_flag=True, help="Lint, and exit 1 when there is any warning.")
def check(directory: str | None, run_lint: bool, strict: bool) -> None:
    """Validate a course folder; print each error as file:line: reason."""
    course_dir = _course_dir(directory)
    sources = read_sources(course_dir)
    media, errors = read_media(course_dir, current_app.config["MEDIA_MAX_BYTES"])
    try:
        course = compile_sources(sources, {name: f"media/{name}" for name in media})
    except CourseInvalid as invalid:
        errors += invalid.errors
    if errors:
        _print_errors(CourseInvalid(errors))
        sys.exit(1)
    click.echo(
        f"{course_dir}: OK — {len(course.modules)} modules, {len(course.lessons)} lessons, "
        f"{len(course.quizzes)} quizzes ({sum(len(q.questions) for q in course.quizzes)} questions), "
        f"{len(course.scenarios)} role-play scenarios, {len(course.aids)} job aids, {len(media)} pictures and files; "
        f"about {course.minutes} minutes of reading."
    )
    if run_lint or strict:
        warnings = lint(course, decode_sources(sources)[0])
        for warning in warnings:
            click.echo(str(warning))
        click.echo(f"{len(warnings)} warning(s) from the lint.")
        if strict and warnings:
            sys.exit(1)


@content_cli.command("import")
@click.argument("directory", required=False)
@click.option("--note", default="", help="Why this revision was published.")
def import_(directory: str | None, note: str) -> None:
    """Publish a course folder as a new revision, all-or-nothing."""
    sys.exit(_import(_course_dir(directory), note))


def _import(course_dir: Path, note: str = "") -> int:
    media, errors = read_media(course_dir, current_app.config["MEDIA_MAX_BYTES"])
    if errors:
        _print_errors(CourseInvalid(errors))
        return 1
    try:
        hashes = {name: stored.store(name, data) for name, data in media.items()}
        result = publish(read_sources(course_dir), media=hashes, note=note or f"import {course_dir.name}")
    except CourseInvalid as error:
        db.session.rollback()
        _print_errors(error)
        return 1
    if result.created:
        click.echo(f"Published revision {result.revision.id} from {course_dir}.")
    else:
        click.echo(f"Revision {result.revision.id} already has these files; nothing changed.")
    return 0


@content_cli.command("export")
@click.argument("directory")
@click.option("--revision", type=int, help="Export this revision instead of the live one.")
def export(directory: str, revision: int | None) -> None:
    """Write the live course (or --revision N) into DIRECTORY as lessons/ and quizzes/ files."""
    revision_id = revision or drafts.live_revision_id()
    files = drafts.revision_files(revision_id)
    if not files:
        raise click.ClickException(f"no published revision {revision}" if revision else "no course is published yet")
    target = Path(directory)
    for path, text in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
    media = stored.contents(stored.revision_media(revision_id))
    if media:
        folder = target / course_folder(files) / MEDIA_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in media.items():
            (folder / name).write_bytes(data)
    click.echo(f"Wrote {len(files)} files and {len(media)} pictures and files of revision {revision_id} to {target}.")


@content_cli.command("diff")
@click.argument("directory", required=False)
@click.option("--from", "from_", type=int, help="Compare two revisions: the older one…")
@click.option("--to", type=int, help="…and the newer one (default: live).")
def diff(directory: str | None, from_: int | None, to: int | None) -> None:
    """Show what differs between a course folder and the live course, or between two revisions.

    Exits 0 when there is no difference and 1 when there is, like diff(1).
    """
    live_id = drafts.live_revision_id()
    if from_ is not None:
        old, old_label = drafts.revision_files(from_), f"r{from_}"
        new, new_label = drafts.revision_files(to or live_id), f"r{to or live_id}"
    else:
        course_dir = _course_dir(directory)
        texts, errors = decode_sources(read_sources(course_dir))
        if errors:
            raise click.ClickException("; ".join(map(str, errors)))
        old, old_label = drafts.revision_files(live_id), f"r{live_id}"
        new, new_label = texts, str(course_dir.parent)
    text = unified(old, new, old_label, new_label)
    click.echo(text, nl=False)
    sys.exit(1 if text else 0)


def create_user(email: str, name: str, roles: set[Role], department: str, password: str) -> User:
    """Create and commit a user in the department at path `department` (created if missing)."""
    user = User(
        email=User.normalise_email(email),
        name=name,
        department=find_or_create(department),
    )
    user.set_password(password)
    user.roles = roles
    db.session.add(user)
    db.session.commit()
    return user


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", "roles", multiple=True, default=["trainee"],
    type=click.Choice([r.value for r in Role]), help="Repeat for several roles.",
)
@click.option("--department", required=True, help="Department path, e.g. \"销售部/华东区\"; created if missing.")
@click.password_option(help="Asked for when not given.")
def users_create(email: str, name: str, roles: tuple[str, ...], department: str, password: str) -> None:
    """Create a user account."""
    if User.by_email(email) is not None:
        raise click.ClickException(f"a user with email {email} already exists")
    if len(password) < 8:
        raise click.ClickException("the password must have at least 8 characters")
    user = create_user(email, name, {Role(r) for r in roles}, department, password)
    click.echo(f"Created {user.email} ({', '.join(sorted(roles))}) in {department}.")


@click.command("setup")
@with_appcontext
@click.option("--demo", is_flag=True, help="Also create one demo account per role.")
def setup(demo: bool) -> None:
    """Create or upgrade the database and publish the course; safe to run again."""
    upgrade()
    if _import(_course_dir(None), "setup") != 0:
        sys.exit(1)
    if demo:
        _create_demo_accounts()


def _create_demo_accounts() -> None:
    for name in DEMO_DEPARTMENTS:
        find_or_create(name)
    db.session.commit()
    created = []
    for email, name, role, department in DEMO_ACCOUNTS:
        if User.by_email(email) is None:
            password = secrets.token_urlsafe(9)
            create_user(email, name, {role}, department, password)
            created.append((role.value, email, password))
    if created:
        click.echo("\nDemo accounts (shown once; keep them):")
        for role, email, password in created:
            click.echo(f"  {role:<8} {email:<22} {password}")
    else:
        click.echo(
            "Demo accounts exist already (passwords were printed on first start); "
            "reset one with: flask --app app users password EMAIL"
        )
    click.echo("")


@users_cli.command("password")
@click.argument("email")
@click.password_option(help="Asked for when not given.")
def users_password(email: str, password: str) -> None:
    """Set a user's password and end their sessions."""
    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    if problem := passwords.weakness(password, (user.email, user.name)):
        raise click.ClickException(str(problem))
    user.set_password(password)
    sessions.end_sessions(user)
    db.session.commit()
    click.echo(f"Password set for {user.email}.")


@staff_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--invite", is_flag=True, help="E-mail an invitation to everyone created, and to anyone in the file never invited.")
@click.option("--by", "by_email", metavar="EMAIL", help="The active admin or HR user the invitations come from (needed with --invite).")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
def staff_import_file(file: Path, invite: bool, by_email: str | None, dry_run: bool) -> None:
    """Import staff from a .csv or .xlsx FILE with the web import's rules, as an administrator.

    Good rows are imported and refused ones listed as `line N: reason`, as on the web; the exit
    code is 1 when any row was refused, so cron mails the list.
    """
    with force_locale("en"):  # no request to choose a language from; the reasons are read by an operator
        sender = _inviter(by_email) if invite else None
        try:
            table = staff_import.read_table(file.name, file.read_bytes())
        except staff_import.ImportFileError as error:
            raise click.ClickException(str(error)) from error
        import_plan = staff_import.plan(*staff_import.check_rows(table), staff_import.Importer(is_admin=True))
        for column in table.unused:
            click.echo(f"column {column.title!r} is not used" if column.title else f"column {column.number} (no heading) is not used", err=True)
        for path in import_plan.new_departments:
            click.echo(f"new department: {path}")
        for error in import_plan.errors:
            click.echo(f"line {error.line}: {error.reason}", err=True)
    counts = import_plan.counts() if dry_run else staff_import.apply(import_plan)
    invited = staff_import.never_invited(import_plan) if sender else []  # once applied, with the people created
    if sender and not dry_run:
        with current_app.test_request_context():  # invite() builds each link with url_for, which needs a request
            invitations.invite(invited, sender, mail=True)
    invite_count = len(invited) + (len(import_plan.creates) if dry_run and sender else 0)
    if not dry_run:
        db.session.commit()
    would = "would " if dry_run else ""
    click.echo(
        f"{would}create {counts['created']}, {would}update {counts['updated']}, "
        f"unchanged {counts['unchanged']}, refused {counts['errors']}"
        + (f"; {would}invite {invite_count}" if sender else "")
        + ("; nothing was changed (--dry-run)" if dry_run else "")
    )
    sys.exit(1 if import_plan.errors else 0)


def _inviter(email: str | None) -> User:
    if not email:
        raise click.UsageError("--invite needs --by EMAIL: the admin or HR user the invitations come from")
    user = User.by_email(email)
    if user is None or not user.active or not user.has_role(Role.ADMIN, Role.HR):
        raise click.UsageError(f"--by {email}: no active admin or HR user has this email")
    return user


@reminders_cli.command("send")
@click.option("--days-before", default=3, show_default=True, help="Remind this many days before the due date.")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
def reminders_send(days_before: int, dry_run: bool) -> None:
    """Send due-soon and overdue reminders, the HR digests and action-plan reviews; run it daily from cron."""

    counts = reminders.send(days_before=days_before, dry_run=dry_run)
    renewed = counts.pop("recertification", 0)
    if renewed:
        click.echo(f"re-assigned the course to {renewed} people whose certificate lapses soon")
    verb = "would send" if dry_run else "sent"
    click.echo(", ".join(f"{verb} {n} {kind}" for kind, n in sorted(counts.items())) or "nothing to send")


@surveys_cli.command("notify")
def surveys_notify() -> None:
    """Announce the survey rounds opening today and remind two days before one closes; run it daily from cron."""
    with current_app.test_request_context():  # the e-mails' links are built with url_for
        counts = announcements.daily(today())
    sealed = answering.seal_closed_rounds(today())
    click.echo(f"announced to {counts['announced']} people, reminded {counts['reminded']}, sealed {sealed} closed round(s)")


@reports_cli.command("rebuild")
def reports_rebuild() -> None:
    """Recompute the learning gains and progress tallies from scratch (they are kept current by every write;
    this is for repairs)."""
    live = live_course()
    gains = learner_gains.refresh_all(live.course) if live else 0
    rows = summaries.rebuild()
    db.session.commit()
    click.echo(f"rebuilt {gains} learning gain rows and {rows} progress tally rows")


def _report(counts: dict[str, int]) -> str:
    return (
        f"sent {counts['sent']}, failed {counts['failed']} (kept for a later try), "
        f"given up {counts['given_up']} (HR and admins may send them again)"
    )


@outbox_cli.command("send")
@click.option("--limit", default=100, show_default=True, help="Send at most this many messages.")
def outbox_send(limit: int) -> None:
    """Send the messages that are due, once; run it every minute from cron when no worker runs."""
    counts = outbox.send_due(limit)
    click.echo(_report(counts) if any(counts.values()) else "nothing to send")
    if lrs.enabled():
        click.echo(_lrs_report(lrs.backlog()))


def _lrs_report(backlog: lrs.Backlog) -> str:
    report = f"LRS: {backlog.waiting} statements waiting, {backlog.given_up} given up"
    if backlog.delivered_at:
        report += f", last delivery {backlog.delivered_at:%Y-%m-%d %H:%M} UTC"
    return report + (f"; last error: {backlog.last_error}" if backlog.last_error else "")


@xapi_cli.command("forward")
@click.option("--since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Queue the statements recorded on or after this day (in the organisation's time zone).")
def xapi_forward(since: datetime) -> None:
    """Queue past statements for the LRS, e.g. after connecting one; the worker sends them, each once."""
    if not lrs.enabled():
        raise click.ClickException("XAPI_LRS_URL is not set: there is no LRS to forward statements to")
    count = lrs.enqueue_since(since.replace(tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])))
    db.session.commit()
    click.echo(f"queued {count} statements; `flask worker` or `flask outbox send` sends them "
               "(the LRS stores each statement once, however often it is sent)")


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds to wait between passes.")
@with_appcontext
def worker(once: bool, interval: float) -> None:
    """Send the outbox's messages as they fall due, until stopped by SIGTERM or Ctrl-C."""
    stop = threading.Event()
    if not once:
        # A signal only raises the flag: the pass in hand ends, so no message is left claimed but unrecorded.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _signum, _frame: stop.set())
        click.echo(f"worker started: sending due messages every {interval:g} s; stop with Ctrl-C or SIGTERM")
    while True:
        counts = outbox.send_due()
        db.session.remove()  # a long-running process holds no connection between passes
        if any(counts.values()):
            click.echo(_report(counts))
        if once or stop.wait(interval):
            break
    click.echo("worker stopped")


def _sqlite_database(command: str) -> Path:
    """Return the live SQLite database file, or stop with a pointer to the PostgreSQL procedure."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            f"`{command}` works on the embedded SQLite database; this app uses {url.get_backend_name()}. "
            "Use pg_dump and pg_restore as described in docs/deploy.md (Backups)."
        )
    if url.database in (None, "", ":memory:"):
        raise click.ClickException("the database is in memory; there is no file to back up or restore")
    return Path(url.database).resolve()


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024 / 1024:.1f} MB"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(file: Path) -> None:
    """Copy the SQLite database to FILE (a new file); safe while the app runs."""
    live = _sqlite_database("backup")
    if file.exists():
        raise click.ClickException(f"{file} exists already; choose a new name, e.g. with the date")
    try:
        backups.copy(live, file)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up {live} to {file.resolve()} ({_size(file)}); the copy passed the integrity check.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="Replace every record in the live database with this backup?")
@with_appcontext
def restore(file: Path) -> None:
    """Replace the SQLite database with FILE, a backup made by `backup`. Stop the app first.

    The live database is first saved beside itself (…-before-restore-<time>.db), then replaced
    in one transaction. Run `flask --app app db upgrade` afterwards if the backup is older than
    this version of Courseware.
    """
    live = _sqlite_database("restore")
    try:
        revision = backups.schema_revision(file)
        saved = live.with_name(f"{live.stem}-before-restore-{datetime.now():%Y%m%d-%H%M%S}{live.suffix}")
        db.engine.dispose()
        backups.copy(live, saved)
        backups.restore(file, live)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.engine.dispose()
    click.echo(f"Restored {live} from {file.resolve()} (schema revision {revision}).")
    click.echo(f"The database as it was before is kept in {saved}.")
    click.echo("Run `flask --app app db upgrade` before starting the app if the backup is from an older version.")


def register(app: Flask) -> None:
    app.cli.add_command(content_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(xapi_cli)
    app.cli.add_command(surveys_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(worker)
    app.cli.add_command(setup)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
