"""Sign-up confirmed by e-mail, and the outbox that sends the mail: against a local SMTP server."""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from conftest import PASSWORD, ROOT, at_once, mailed_link
from sqlalchemy import func, select

from courseware.extensions import db
from courseware.models import AccountToken, OutboxMessage, Role, User, utcnow
from courseware.outbox import queue as outbox
from courseware.people import privacy, tokens
from courseware.people.auth import signup as signup_views

PUBLIC_URL = "https://learn.example.com"
NEW_PASSWORD = "quiet-river-lamp"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/signup/confirm/[A-Za-z0-9_-]+)")


@pytest.fixture
def app_config(smtp):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[0], "MAIL_FROM": "training@example.com", "PUBLIC_URL": PUBLIC_URL}


def sign_up(client, department, email="li.lei@example.com", name="李雷"):
    form = {"name": name, "email": email, "department": department, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return client.post("/signup", data=form)


def deliver(app) -> str:
    """Run the worker once, as cron or the service would; return what it printed."""
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def link_in(mail) -> str:
    """The confirmation link's path in a mail (the mail gives PUBLIC_URL, the test client serves paths)."""
    return LINK.search(mail.get_content()).group(1)


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def signed_in(client) -> bool:
    return client.get("/progress").status_code == 200


def test_a_new_and_a_taken_email_get_the_same_page_and_the_same_work(app, client, department, make_user, monkeypatch):
    """Timing is not measured in a unit test; what makes it equal is that both cases do the same work."""
    hashes: list[str] = []
    real_hash = signup_views.generate_password_hash
    monkeypatch.setattr(signup_views, "generate_password_hash", lambda *a, **k: hashes.append(real_hash(*a, **k)) or hashes[-1])
    client.post("/language/en")
    pages, work = [], []
    for taken in (False, True):
        if taken:
            make_user(email="someone@example.com")
        hashes.clear()
        before = count(app, OutboxMessage)
        response = sign_up(client, department, email="someone@example.com")
        assert response.status_code == 200
        pages.append(re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True)))
        work.append((len(hashes), count(app, OutboxMessage) - before))
    assert pages[0] == pages[1]
    assert "Check your inbox" in pages[0] and "someone@example.com" in pages[0] and "already" not in pages[0]
    assert work == [(1, 1), (1, 1)]
    assert all(hashed.startswith("scrypt:") for hashed in hashes)


def test_the_mailed_link_creates_the_account_once_and_signs_in(app, client, department, smtp):
    _, inbox = smtp
    client.post("/language/en")
    assert "Check your inbox" in sign_up(client, department).get_data(as_text=True)
    assert count(app, User) == 0 and inbox.messages == []  # nothing is sent inside the request

    assert "sent 1, failed 0" in deliver(app)
    [mail] = inbox.messages
    assert mail["To"] == "li.lei@example.com" and "Finish signing up" in mail["Subject"]
    assert "within 24 hours" in mail.get_content()
    link = link_in(mail)  # built from PUBLIC_URL, although the request came to localhost

    visitor = app.test_client()
    for _ in range(2):  # opening the link, as a mail scanner does, uses nothing up
        page = visitor.get(link)
        assert page.status_code == 200
        assert "李雷" in page.get_data(as_text=True) and "Create my account" in page.get_data(as_text=True)
    assert count(app, User) == 0

    response = visitor.post(link)
    assert response.status_code == 302 and response.location == "/"
    assert "李雷" in visitor.get("/").get_data(as_text=True) and signed_in(visitor)
    with app.app_context():
        user = User.by_email("li.lei@example.com")
        assert user.roles == {Role.TRAINEE} and user.department_id == department and user.locale == "en"

    again = app.test_client().post(link)  # a second click, or a copy of the mail
    assert again.status_code == 410 and "链接已过期或已被使用" in again.get_data(as_text=True)  # a new browser: Chinese
    assert count(app, User) == 1
    visitor.post("/logout")
    assert visitor.post("/login", data={"email": "li.lei@example.com", "password": NEW_PASSWORD}).status_code == 302


def test_a_double_click_on_the_button_creates_one_account(app, client, department, smtp):
    sign_up(client, department)
    deliver(app)
    link = link_in(smtp[1].messages[0])
    assert at_once(app, lambda: app.test_client().post(link), 4) == []
    assert count(app, User) == 1


def test_an_expired_link_is_refused(app, client, department, smtp, monkeypatch):
    sign_up(client, department)
    deliver(app)
    link = link_in(smtp[1].messages[0])
    later = utcnow() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr(tokens, "utcnow", lambda: later)
    client.post("/language/en")
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "expired or has already been used" in page and 'href="/signup"' in page
    assert count(app, User) == 0 and not signed_in(client)


def test_signing_up_again_sends_a_new_link_and_the_old_one_stops_working(app, client, department, smtp):
    sign_up(client, department, name="李雷")
    sign_up(client, department, name="李蕾")
    deliver(app)
    first, second = (link_in(mail) for mail in smtp[1].messages)
    assert client.get(first).status_code == 410
    assert client.post(second).status_code == 302
    with app.app_context():
        assert User.by_email("li.lei@example.com").name == "李蕾"


def test_the_mail_to_a_taken_address_says_so_and_carries_no_link(app, client, department, make_user, smtp):
    make_user(email="taken@example.com")
    client.post("/language/en")
    sign_up(client, department, email="Taken@Example.com")
    deliver(app)
    [mail] = smtp[1].messages
    body = mail.get_content()
    assert mail["To"] == "taken@example.com"
    assert "already has an account" in body and f"{PUBLIC_URL}/login" in body and "ask your HR or an administrator" in body
    assert "/signup/confirm/" not in body and count(app, AccountToken) == 0
    assert client.post("/login", data={"email": "taken@example.com", "password": PASSWORD}).status_code == 302


def test_an_account_made_while_the_link_waits_is_not_made_twice(app, client, department, make_user, smtp):
    sign_up(client, department)
    deliver(app)
    make_user(email="li.lei@example.com")  # HR imported the person in the meantime
    client.post("/language/en")
    response = client.post(link_in(smtp[1].messages[0]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "You already have an account" in page and 'href="/login"' in page
    assert count(app, User, User.email == "li.lei@example.com") == 1 and not signed_in(client)


def test_the_export_shows_the_links_for_the_address_and_anonymising_removes_them_and_the_mail(app, client, department, make_user):
    sign_up(client, department)
    client.post(mailed_link(app, "li.lei@example.com"))
    admin_id, _ = make_user(Role.ADMIN)
    with app.app_context():
        user = User.by_email("li.lei@example.com")
        export = privacy.person_export(user.id)
        [link] = export["account_links"]
        assert link["purpose"] == "signup" and link["used_at"] is not None
        assert user.password_hash not in json.dumps(export)
        privacy.anonymise(user.id, by=db.session.get(User, admin_id))
    assert count(app, AccountToken) == 0
    assert count(app, OutboxMessage) == 0, "the mail to the person's old address goes with it"


@pytest.mark.parametrize("app_config", [{"SIGNUP_ENABLED": False}])
def test_sign_up_switched_off_hides_the_confirmation_too(client):
    assert client.get("/signup/confirm/anything").status_code == 404
    assert client.post("/signup/confirm/anything").status_code == 404


def _queue(app, *recipients: str) -> None:
    with app.app_context():
        for to in recipients:
            outbox.enqueue_mail(to, f"for {to}", "hello")
        db.session.commit()


def test_a_failing_mail_server_keeps_the_message_and_it_goes_out_later(app, smtp, monkeypatch):
    _, inbox = smtp
    _queue(app, "a@example.com")
    inbox.refusing = True
    with app.app_context():
        assert outbox.send_due() == {"sent": 0, "failed": 1, "given_up": 0}
        message = db.session.scalar(select(OutboxMessage))
        assert message.sent_at is None and message.attempts == 1 and "451" in message.last_error
    inbox.refusing = False
    assert "nothing to send" in app.test_cli_runner().invoke(args=["outbox", "send"]).output  # waits a minute first
    later = utcnow() + timedelta(minutes=1, seconds=1)
    monkeypatch.setattr(outbox, "utcnow", lambda: later)
    assert "sent 1, failed 0" in app.test_cli_runner().invoke(args=["outbox", "send"]).output
    assert [m["To"] for m in inbox.messages] == ["a@example.com"]
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)).sent_at == later


def test_one_refused_message_never_stops_the_others(app, smtp):
    _, inbox = smtp
    inbox.refused = {"b@example.com"}
    _queue(app, "a@example.com", "b@example.com", "c@example.com")
    with app.app_context():
        assert outbox.send_due() == {"sent": 2, "failed": 1, "given_up": 0}
    assert sorted(m["To"] for m in inbox.messages) == ["a@example.com", "c@example.com"]


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (9, 256), (10, 360), (60, 360)])
def test_retries_wait_one_minute_doubling_up_to_six_hours(attempts, minutes):
    assert outbox.retry_delay(attempts) == timedelta(minutes=minutes)


def test_two_workers_at_once_send_each_message_once(app, smtp):
    _, inbox = smtp
    recipients = [f"person{n}@example.com" for n in range(30)]
    _queue(app, *recipients)
    passes: list[dict[str, int]] = []
    assert at_once(app, lambda: passes.append(outbox.send_due()), 4) == []
    assert sorted(m["To"] for m in inbox.messages) == sorted(recipients)
    assert sum(p["sent"] for p in passes) == 30
    assert count(app, OutboxMessage, OutboxMessage.sent_at.is_(None)) == 0


def test_the_worker_sends_and_stops_cleanly_on_sigterm(app, database_url, smtp, tmp_path):
    _queue(app, "a@example.com")
    environment = os.environ | {
        "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "worker"), "SECRET_KEY": "test secret",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp[0]), "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "worker", "--interval", "0.2"]
    with subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as worker:
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in worker.stdout])
        reader.start()
        try:
            while "sent 1, failed 0" not in lines.get(timeout=60):
                pass
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=60) == 0
        finally:
            worker.kill()
            reader.join()
    assert [m["To"] for m in smtp[1].messages] == ["a@example.com"]
    assert "worker stopped" in "".join(lines.queue)
