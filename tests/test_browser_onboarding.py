"""Issue J's journey in Debian's Chromium: a company gets everyone in.

HR imports 50 staff with employee IDs, assigns the course and invites them all; the mail leaves
through the outbox worker to an SMTP server on 127.0.0.1, where the test reads it as the person
would. One person sets a password from the invitation and finds the course and its notice; one
signs in through the company's OpenID Connect provider, one with their directory account (slapd),
each landing on their own record with the roles the company gave them; a reset link works once and
ends the session left open elsewhere.
"""
from __future__ import annotations

import re
import warnings

import httpx
import pytest
from browser_support import BROWSER_MARKS, chromium, serve
from conftest import make_app
from ldap_server import BASE_DN, SERVICE_DN, SERVICE_PASSWORD, requires_slapd, running_directory

from courseware.cli import create_user
from courseware.models import Role
from courseware.outbox.queue import send_due
from courseware.publishing import publish

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the mock still imports authlib.jose
    import oidc_provider_mock

pytestmark = [*BROWSER_MARKS, pytest.mark.slow, requires_slapd, pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")]

HR = "hr@example.com"
STAFF = 50


def staff_file(tmp_path):
    """HR's export: 工号, name, email, department; 张伟 (row 3) is also in the company directory."""
    rows = ["工号,姓名,邮箱,部门"]
    for n in range(1, STAFF + 1):
        employee_id, name, email = f"E{3000 + n}", f"员工{n}", f"staff{n}@example.com"
        if n == 1:
            name, email = "孙丽", "sun.li@example.com"
        elif n == 2:
            name, email = "周敏", "zhou.min@example.com"
        elif n == 3:
            employee_id, name, email = "E1001", "张伟", "zhang.wei@example.com"
        rows.append(f"{employee_id},{name},{email},{'销售部' if n % 2 else '客服部'}")
    path = tmp_path / "花名册.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    return path


@pytest.fixture
def company(tmp_path, course_sources, smtp):
    """The platform as the company's IT runs it: password, OpenID Connect and LDAP sign-in, a mail server."""
    port, inbox = smtp
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as provider, \
            running_directory(tmp_path / "slapd") as directory:
        issuer = f"http://localhost:{provider.server_port}"
        app = make_app(
            f"sqlite:///{tmp_path / 'company.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True,
            SMTP_HOST="127.0.0.1", SMTP_PORT=port,
            OIDC_ISSUER=issuer, OIDC_CLIENT_ID="courseware", OIDC_CLIENT_SECRET="secret",
            OIDC_GROUP_ROLES="trainers=trainer",
            LDAP_URL=directory.ldaps_url, LDAP_CA_FILE=str(directory.ca_file), LDAP_BASE_DN=BASE_DN,
            LDAP_BIND_DN=SERVICE_DN, LDAP_BIND_PASSWORD=SERVICE_PASSWORD, LDAP_GROUP_ROLES="hr-team=hr",
        )
        with app.app_context():
            publish(course_sources)
            create_user(HR, "人事小赵", {Role.HR}, "人力资源部", "hr-Password-123")
        with serve(app) as url:
            app.config["PUBLIC_URL"] = url  # links in mail, and where the provider sends the browser back
            yield app, url, issuer, inbox


def deliver(app) -> None:
    """What `flask worker` does: send what the outbox holds."""
    with app.app_context():
        while send_due(limit=500)["sent"]:
            pass


def sign_in(page, url: str, login: str, password: str) -> None:
    """The ordinary login form, which takes a directory account, an email or an employee ID."""
    page.goto(url + "/")
    page.get_by_label("企业账号、邮箱或工号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def mailed_link(inbox, to: str, prefix: str) -> str:
    """The link starting with `prefix` in the newest mail the SMTP server received for `to`."""
    bodies = [m.get_content() for m in inbox.messages if m["To"] == to]
    return re.findall(r"https?://\S*" + re.escape(prefix) + r"[\w-]+", bodies[-1])[-1]


def test_hr_gets_fifty_staff_in_by_invitation_company_sign_in_and_the_directory(company, tmp_path):
    app, url, issuer, inbox = company
    with chromium() as browser:

        def new_page():
            page = browser.new_context().new_page()
            # The mock provider's own page asks a CDN for its stylesheet; nothing else leaves 127.0.0.1.
            page.route(lambda target: not target.startswith(("http://127.0.0.1", "http://localhost")),
                       lambda route: route.abort())
            return page

        hr = new_page()
        sign_in(hr, url, HR, "hr-Password-123")
        hr.get_by_role("link", name="人力资源", exact=True).click()
        hr.get_by_role("link", name="导入员工", exact=True).click()
        hr.get_by_label("员工文件").set_input_files(str(staff_file(tmp_path)))
        hr.get_by_role("button", name="预览").click()
        hr.get_by_role("button", name=f"导入 {STAFF} 人").click()
        hr.get_by_text(f"该文件已导入。 新建 {STAFF} 人").wait_for()

        hr.get_by_role("link", name="学习任务").click()
        hr.get_by_label("部门（含下属部门）").select_option(label="销售部")
        hr.get_by_label("截止日期").fill("2099-06-30")
        hr.get_by_role("button", name="分配", exact=True).click()
        hr.get_by_text("已分配").first.wait_for()

        hr.get_by_role("link", name="邀请", exact=True).click()
        hr.get_by_role("button", name=f"邀请所有未登录的人（{STAFF}）").click()
        hr.get_by_role("button", name=f"发送 {STAFF} 份邀请").click()
        hr.get_by_text(f"已发出 {STAFF} 份邀请。").wait_for()
        deliver(app)
        invited = {m["To"] for m in inbox.messages}
        assert {f"staff{n}@example.com" for n in range(4, STAFF + 1)} | {"sun.li@example.com"} <= invited

        # 孙丽 opens the invitation she received, chooses a password and finds what HR assigned.
        sun = new_page()
        sun.goto(mailed_link(inbox, "sun.li@example.com", "/invitation/"))
        sun.get_by_label("密码", exact=True).fill("quiet-river-lamp")
        sun.get_by_label("再次输入密码").fill("quiet-river-lamp")
        sun.get_by_role("button", name="保存密码并登录").click()
        assigned = sun.locator("section", has=sun.get_by_role("heading", name="分配给你的学习"))
        assert "2099-06-30" in assigned.inner_text()
        news = sun.locator("section", has=sun.get_by_role("heading", name="给你的消息"))
        assert "你有新的学习任务" in news.inner_text()
        assert "孙丽" in sun.locator("header").inner_text()

        # 周敏 signs in through the company's provider, which knows her employee ID and her groups.
        assert httpx.put(f"{issuer}/users/zhoumin", json={"employee_id": "E3002", "groups": ["trainers"]}).status_code == 204
        zhou = new_page()
        zhou.goto(url + "/login")
        zhou.get_by_role("link", name="企业账号登录").click()
        zhou.get_by_placeholder("sub").fill("zhoumin")
        zhou.get_by_role("button", name="Authorize").click()
        zhou.get_by_role("link", name="课程工作室").wait_for()  # a trainer now, from the provider's group
        assert "周敏" in zhou.locator("header").inner_text()

        # 张伟 signs in on the ordinary form with his directory account; the directory makes him HR.
        zhang = new_page()
        sign_in(zhang, url, "zhangwei", "amber-desk-lantern")
        zhang.get_by_role("link", name="人力资源", exact=True).wait_for()
        assert "张伟" in zhang.locator("header").inner_text()

        # 孙丽 is still signed in on her phone; she resets her password from another browser.
        phone = new_page()
        sign_in(phone, url, "E3001", "quiet-river-lamp")
        phone.get_by_text("分配给你的学习").wait_for()

        laptop = new_page()
        laptop.goto(url + "/")
        laptop.get_by_role("link", name="忘记密码？").click()
        laptop.get_by_label("邮箱或工号").fill("e3001")
        laptop.get_by_role("button", name="发送链接").click()
        deliver(app)
        link = mailed_link(inbox, "sun.li@example.com", "/password/reset/")
        laptop.goto(link)
        laptop.get_by_label("密码", exact=True).fill("bright-harbor-kettle")
        laptop.get_by_label("再次输入密码").fill("bright-harbor-kettle")
        laptop.get_by_role("button", name="保存密码并登录").click()
        laptop.get_by_text("分配给你的学习").wait_for()

        phone.reload()
        assert phone.get_by_label("企业账号、邮箱或工号").is_visible()  # the reset ended that session

        again = new_page()
        again.goto(link)
        again.get_by_text("链接已过期、已被使用，或已被新链接取代。").wait_for()  # a reset link works once
