"""The outbox gives up what cannot be delivered and lets people send it again; departments' group robots
(企业微信, 钉钉, 飞书) hear about assignments, posted to a local HTTP receiver and a local mail server."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import socket
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from courseware.extensions import db
from courseware.hr import notifications
from courseware.models import Assignment, AuditEntry, Department, HRScope, OutboxMessage, Role, utcnow
from courseware.outbox import queue as outbox
from courseware.people.departments import find_or_create

COURSE_ID = "internal-customer-service"
DUE = "2099-06-30"
PUBLIC_URL = "https://learn.example.com"
SECRET = "SECabc123"
TITLE = "内部客户服务意识"
OK = (200, {"errcode": 0, "errmsg": "ok"})


class Receiver:
    """What the local robot platform received, as (path with query, JSON body); it answers `answer`."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.answer: tuple[int, dict] = OK
        self.url = ""


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            state.posts.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            status, answer = state.answer
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def app_config(smtp):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[0], "PUBLIC_URL": PUBLIC_URL, "OUTBOX_MAX_ATTEMPTS": 3}


def set_robot(app, path: str, kind: str, url: str, secret: str | None = None) -> int:
    with app.app_context():
        department = find_or_create(path)
        department.robot_kind, department.robot_url, department.robot_secret = kind, url, secret
        db.session.commit()
        return department.id


def assign(client, department_id: int | None = None, email: str = "") -> None:
    data = {"activity": COURSE_ID, "due_on": DUE, "department": department_id or 0, "email": email}
    assert client.post("/hr/assignments", data=data).status_code == 302


def send(app) -> dict[str, int]:
    with app.test_request_context():
        return outbox.send_due()


def make_due(app) -> None:
    """Bring every waiting message's next try to now, as if its back-off had passed."""
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).values(next_attempt_at=utcnow()))
        db.session.commit()


def robot_messages(app) -> list[OutboxMessage]:
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "robot").order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return messages


def signature(key: str, message: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode()


@pytest.fixture
def admin(make_user, login, published):
    login(make_user(Role.ADMIN, department="信息技术部")[1])


@pytest.fixture
def staff(make_user):
    """Two people in 销售部/华东区, one in 销售部, one in 生产部."""
    return [make_user(department="销售部/华东区")[1], make_user(department="销售部/华东区")[1],
            make_user(department="销售部")[1], make_user(department="生产部")[1]]


def test_a_department_assignment_posts_a_signed_dingtalk_message_to_the_robot_below_it(app, client, staff, receiver, admin):
    east = set_robot(app, "销售部/华东区", "dingtalk", f"{receiver.url}/robot/send?access_token=tok", SECRET)
    with app.app_context():
        sales = find_or_create("销售部").id
    assign(client, sales)
    assert send(app) == {"sent": 4, "failed": 0, "given_up": 0}  # three people's mail, one post

    [(path, body)] = receiver.posts
    query = parse_qs(urlsplit(path).query)
    timestamp = query["timestamp"][0]
    assert query["access_token"] == ["tok"]
    assert query["sign"] == [signature(SECRET, f"{timestamp}\n{SECRET}")]
    assert abs(int(timestamp) / 1000 - utcnow().timestamp()) < 60  # signed when sent, in milliseconds
    assert body["msgtype"] == "text" and set(body) == {"msgtype", "text"}
    content = body["text"]["content"]
    with app.test_request_context(), force_locale("zh"):
        expected = notifications.robot_text("assigned", TITLE, date(2099, 6, 30), "华东区", 2, f"{PUBLIC_URL}/")
    assert content == expected  # in the organisation's language, counting the two people of 华东区
    assert [m.payload for m in robot_messages(app)] == [{"department_id": east, "text": content}]  # no URL, no secret


@pytest.mark.parametrize("kind", ["wecom", "feishu"])
def test_wecom_and_feishu_get_their_own_format(app, client, staff, receiver, admin, kind):
    secret = SECRET if kind == "feishu" else None
    production = set_robot(app, "生产部", kind, f"{receiver.url}/hook/xyz", secret)
    receiver.answer = (200, {"errcode": 0}) if kind == "wecom" else (200, {"code": 0, "msg": "success", "data": {}})
    assign(client, production)
    send(app)

    [(path, body)] = receiver.posts
    assert path == "/hook/xyz"
    if kind == "wecom":
        assert body == {"msgtype": "text", "text": {"content": body["text"]["content"]}}
        assert DUE in body["text"]["content"]
    else:
        assert set(body) == {"msg_type", "content", "timestamp", "sign"} and body["msg_type"] == "text"
        assert DUE in body["content"]["text"]
        assert body["sign"] == signature(f"{body['timestamp']}\n{SECRET}", "")
        assert abs(int(body["timestamp"]) - utcnow().timestamp()) < 60  # in seconds
    assert robot_messages(app)[0].sent_at is not None


def test_feishu_older_status_code_answer_counts_as_taken(app, client, staff, receiver, admin):
    production = set_robot(app, "生产部", "feishu", f"{receiver.url}/hook/xyz")
    receiver.answer = (200, {"StatusCode": 0, "StatusMessage": "success"})
    assign(client, production)
    send(app)
    assert robot_messages(app)[0].sent_at is not None


def test_a_personal_assignment_posts_to_no_group(app, client, staff, receiver, admin):
    set_robot(app, "销售部", "wecom", f"{receiver.url}/hook")
    set_robot(app, "销售部/华东区", "wecom", f"{receiver.url}/hook")
    assign(client, email=staff[0])
    assert send(app) == {"sent": 1, "failed": 0, "given_up": 0}
    assert receiver.posts == [] and robot_messages(app) == []


def test_moving_the_due_date_and_withdrawing_post_too(app, client, staff, receiver, admin):
    production = set_robot(app, "生产部", "wecom", f"{receiver.url}/hook")
    assign(client, production)
    with app.app_context():
        assignment = db.session.scalar(select(Assignment.id))
    client.post(f"/hr/assignments/{assignment}/due", data={"due_on": "2099-07-31"})
    client.post(f"/hr/assignments/{assignment}/withdraw")
    send(app)
    texts = [body["text"]["content"] for _path, body in receiver.posts]
    assert len(texts) == 3 and "2099-07-31" in texts[1] and "2099" not in texts[2]


def test_a_server_error_is_retried_later_and_an_invalid_key_is_given_up(app, client, staff, receiver, admin):
    production = set_robot(app, "生产部", "wecom", f"{receiver.url}/hook")
    receiver.answer = (500, {"error": "busy"})
    assign(client, production)
    assert send(app) == {"sent": 1, "failed": 1, "given_up": 0}
    [message] = robot_messages(app)
    assert message.failed_at is None and message.attempts == 1 and "HTTP 500" in message.last_error
    assert timedelta(seconds=50) < message.next_attempt_at - utcnow() <= timedelta(minutes=1)
    assert send(app)["failed"] == 0 and len(receiver.posts) == 1  # not due yet

    receiver.answer = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    make_due(app)
    assert send(app) == {"sent": 0, "failed": 0, "given_up": 1}
    [message] = robot_messages(app)
    assert message.failed_at is not None and "93000" in message.last_error
    make_due(app)
    assert send(app) == {"sent": 0, "failed": 0, "given_up": 0} and len(receiver.posts) == 2


@pytest.mark.parametrize(("status", "given_up"), [(404, True), (400, True), (408, False), (429, False), (503, False)])
def test_http_answers_4xx_give_up_but_timeouts_and_rate_limits_retry(app, receiver, status, given_up):
    set_robot(app, "生产部", "dingtalk", f"{receiver.url}/robot/send?access_token=t")
    receiver.answer = (status, {})
    with app.app_context():
        outbox.enqueue_robot_posts([(find_or_create("生产部").id, "hello")])
        db.session.commit()
    assert send(app)["given_up"] == int(given_up)


def test_after_the_last_try_a_message_is_given_up_and_no_longer_sent(app, receiver):
    production = set_robot(app, "生产部", "dingtalk", f"{receiver.url}/robot/send?access_token=t")
    receiver.answer = (200, {"errcode": 130101, "errmsg": "send too fast"})  # rate limited: worth trying again
    with app.app_context():
        outbox.enqueue_robot_posts([(production, "hello")])
        db.session.commit()
    outcomes = []
    for _try in range(4):
        outcomes.append(send(app))
        make_due(app)
    assert [o["failed"] for o in outcomes] == [1, 1, 0, 0] and [o["given_up"] for o in outcomes] == [0, 0, 1, 0]
    assert len(receiver.posts) == 3  # OUTBOX_MAX_ATTEMPTS
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "nothing to send" in result.output


def test_the_admin_sets_the_robot_sees_failures_and_sends_again(app, client, staff, receiver, admin):
    with app.app_context():
        production = find_or_create("生产部").id
        db.session.commit()
    url = f"{receiver.url}/cgi-bin/webhook/send?key=wrong-key"
    response = client.post(f"/admin/departments/{production}", data={"kind": "wecom", "url": url, "secret": "s3cret"})
    assert response.status_code == 302
    page = client.get(f"/admin/departments/{production}").get_data(as_text=True)
    assert "s3cret" not in page and "wrong-key" in page  # the secret is never shown back
    receiver.answer = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    assign(client, production)
    send(app)
    [message] = robot_messages(app)
    assert message.failed_at is not None
    page = client.get(f"/admin/departments/{production}").get_data(as_text=True)
    assert "93000" in page and f"/robot-posts/{message.id}/send-again" in page

    url = f"{receiver.url}/cgi-bin/webhook/send?key=right-key"
    client.post(f"/admin/departments/{production}", data={"kind": "wecom", "url": url, "secret": ""})
    with app.app_context():
        assert db.session.get(Department, production).robot_secret == "s3cret"  # kept: nothing new was typed
    receiver.answer = OK
    assert send(app)["sent"] == 0  # a given-up post waits for someone to send it again
    assert client.post(f"/admin/departments/{production}/robot-posts/{message.id}/send-again").status_code == 302
    assert client.post(f"/admin/departments/{production + 1}/robot-posts/{message.id}/send-again").status_code == 404
    assert send(app)["sent"] == 1
    assert receiver.posts[-1][0] == "/cgi-bin/webhook/send?key=right-key"  # the new key, read when sending
    [message] = robot_messages(app)
    assert message.sent_at is not None and message.failed_at is None and message.attempts == 1

    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(["department_robot", "resend_message"]))
                                     .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["department_robot", "department_robot", "resend_message"]
        assert entries[-1].detail["message_id"] == message.id
        logged = json.dumps([e.detail for e in entries])
    assert "s3cret" not in logged and "key=" not in logged and "127.0.0.1" in logged


@pytest.mark.parametrize(("data", "error"), [
    ({"kind": "wecom", "url": "ftp://example.com/hook"}, "以 https:// 或 http:// 开头"),
    ({"kind": "wecom", "url": "javascript:alert(1)"}, "以 https:// 或 http:// 开头"),
    ({"kind": "feishu", "url": ""}, "需要填写 Webhook 地址"),
    ({"kind": "nonsense", "url": "https://example.com"}, "has-error"),  # WTForms says so in the page's language
])
def test_the_robot_form_refuses_what_is_not_a_web_address(app, client, admin, data, error):
    with app.app_context():
        production = find_or_create("生产部").id
        db.session.commit()
    response = client.post(f"/admin/departments/{production}", data=data)
    assert response.status_code == 200 and error in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Department, production).robot_url is None


def test_the_admin_clears_the_secret_and_the_robot(app, client, admin, receiver):
    production = set_robot(app, "生产部", "feishu", f"{receiver.url}/hook", SECRET)
    client.post(f"/admin/departments/{production}", data={"kind": "feishu", "url": f"{receiver.url}/hook", "clear_secret": "y"})
    with app.app_context():
        assert db.session.get(Department, production).robot_secret is None
    client.post(f"/admin/departments/{production}", data={"kind": "", "url": ""})
    with app.app_context():
        department = db.session.get(Department, production)
        assert (department.robot_kind, department.robot_url) == (None, None)


def test_a_post_for_a_department_without_a_robot_any_more_is_given_up(app, client, staff, receiver, admin):
    production = set_robot(app, "生产部", "wecom", f"{receiver.url}/hook")
    assign(client, production)
    set_robot(app, "生产部", None, None)
    assert send(app)["given_up"] == 1
    [message] = robot_messages(app)
    assert "no group robot" in message.last_error and receiver.posts == []


def test_an_unreachable_robot_is_retried_and_its_key_is_not_recorded(app, receiver):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    production = set_robot(app, "生产部", "wecom", f"http://127.0.0.1:{closed_port}/send?key=the-key")
    with app.app_context():
        outbox.enqueue_robot_posts([(production, "hello")])
        db.session.commit()
    assert send(app) == {"sent": 0, "failed": 1, "given_up": 0}
    [message] = robot_messages(app)
    assert "ConnectionError" in message.last_error and "the-key" not in message.last_error


def queue_mail(app, *recipients: str) -> None:
    with app.app_context():
        for to in recipients:
            outbox.enqueue_mail(to, f"for {to}", "hello")
        db.session.commit()


@pytest.fixture
def sales_hr(app, make_user, login):
    hr_id, hr_email = make_user(Role.HR, department="销售部")
    with app.app_context():
        db.session.add(HRScope(user_id=hr_id, department_id=find_or_create("销售部").id))
        db.session.commit()
    login(hr_email)


def mail_messages(app) -> dict[str, OutboxMessage]:
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "mail")).all()
        db.session.expunge_all()
    return {m.payload["to"]: m for m in messages}


def test_a_mailbox_the_server_refuses_for_good_is_given_up_and_hr_sends_it_again(app, client, smtp, staff, sales_hr):
    _port, inbox = smtp
    gone, full, fine, elsewhere = staff[0], staff[1], staff[2], staff[3]
    inbox.unknown = {gone, elsewhere}
    inbox.refused = {full}  # 451: a temporary refusal
    queue_mail(app, gone, full, fine, elsewhere)
    assert send(app) == {"sent": 1, "failed": 1, "given_up": 2}
    messages = mail_messages(app)
    assert messages[gone].failed_at is not None and "550" in messages[gone].last_error
    assert messages[full].failed_at is None and "451" in messages[full].last_error

    page = client.get("/hr/invitations").get_data(as_text=True)
    undelivered = page.split('id="undelivered-heading"')[1].split("</section>")[0]
    assert elsewhere not in undelivered and fine not in undelivered  # outside HR's departments; delivered
    rows = {email: next(row for row in undelivered.split("<tr>") if email in row) for email in (gone, full)}
    assert "已放弃" in rows[gone] and "仍在重试" in rows[full]
    assert f"/undelivered/{messages[gone].id}/send-again" in rows[gone]
    assert "send-again" not in rows[full]  # a worker tries it again by itself; by hand it could go out twice

    assert client.post(f"/hr/invitations/undelivered/{messages[elsewhere].id}/send-again").status_code == 404
    assert client.post(f"/hr/invitations/undelivered/{messages[fine].id}/send-again").status_code == 404  # delivered
    assert client.post(f"/hr/invitations/undelivered/{messages[full].id}/send-again").status_code == 404  # still retrying
    inbox.unknown = set()
    assert client.post(f"/hr/invitations/undelivered/{messages[gone].id}/send-again").status_code == 302
    assert send(app) == {"sent": 1, "failed": 0, "given_up": 0}  # the 451 one still waits for its back-off
    assert sorted(m["To"] for m in inbox.messages) == sorted([fine, gone])
    assert mail_messages(app)[elsewhere].failed_at is not None
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resend_message"))
        assert entry.detail["message_id"] == messages[gone].id and entry.subject.email == gone


def test_the_worker_counts_what_it_gave_up(app, smtp, staff):
    _port, inbox = smtp
    inbox.unknown = {staff[0]}
    queue_mail(app, staff[0], staff[1])
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "sent 1, failed 0 (kept for a later try), given up 1" in result.output


@pytest.mark.parametrize(("error", "permanent"), [
    (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no"), "b@x": (551, b"no")}), True),
    (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no"), "b@x": (450, b"later")}), False),
    (smtplib.SMTPSenderRefused(553, b"bad sender", "me@x"), True),
    (smtplib.SMTPDataError(554, b"rejected"), True),
    (smtplib.SMTPDataError(451, b"later"), False),
    (smtplib.SMTPServerDisconnected("gone"), False),
    (smtplib.SMTPAuthenticationError(535, b"bad password"), False),  # every message would fail alike
    (smtplib.SMTPConnectError(554, b"no service"), False),
    (TimeoutError("timed out"), False),
])
def test_which_mail_failures_are_permanent(error, permanent):
    assert outbox.permanent(error) is permanent
