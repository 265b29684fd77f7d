"""A peak hour on Courseware as its users make it, for Locust; bench/peak.py runs it and reads the results.

    python bench/peak.py                      # the one command: data, gunicorn, Locust, table

Learners (98 % of users) log in through the real form, follow "continue" from their home page
and work through activities by the "Next" links, as a browser without JavaScript would, plus the
two requests the pages' scripts send: the lesson page's reading-time heartbeat and the quiz's
autosave. After a session of a few activities a learner logs out and the seat goes to the next
learner, so logins keep coming. HR users (2 %) open the dashboard, the learner matrix and a learner's
record. Every HTTP request is one sample: a non-2xx/3xx answer, or a page showing an error
(a flash of category error, a form error, the login form again), is a failure.

The load comes in steps of concurrent users (PEAK_STEPS); each step ramps up until every seat has
logged in, settles, then holds for PEAK_STEP_SECONDS, measured alone: its figures go to PEAK_RESULTS
as JSON after every phase. The run stops after the first step with p95 ≥ PEAK_P95_MS or any failure,
unless PEAK_KEEP_GOING is set.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import gevent
from locust import HttpUser, LoadTestShape, task

PASSWORD = os.environ.get("PEAK_PASSWORD", "bench-password")
HR_LOGIN = os.environ.get("PEAK_HR_LOGIN", "hr@bench.example.com")
LEARNERS_FILE = os.environ.get("PEAK_LEARNERS", "")
LEARNER_OFFSET = int(os.environ.get("PEAK_LEARNER_OFFSET", "0"))
STEPS = [int(n) for n in os.environ.get("PEAK_STEPS", "25,50,100").split(",")]
STEP_SECONDS = float(os.environ.get("PEAK_STEP_SECONDS", "60"))
SPAWN_RATE = float(os.environ.get("PEAK_SPAWN_RATE", "10"))
SETTLE_SECONDS = float(os.environ.get("PEAK_SETTLE_SECONDS", "10"))
RAMP_GRACE = float(os.environ.get("PEAK_RAMP_GRACE", "60"))
P95_MS = float(os.environ.get("PEAK_P95_MS", "500"))
KEEP_GOING = os.environ.get("PEAK_KEEP_GOING", "") not in ("", "0")
RESULTS = os.environ.get("PEAK_RESULTS", "")
THINK_SCALE = float(os.environ.get("PEAK_THINK_SCALE", "1"))  # < 1 only to try the scenario out, never for figures
# Think times in seconds (a learner's pace, not the machine's): see docs/performance.md.
PAGE_GLANCE = (3, 10)  # look at a page before clicking on
ANSWER = (8, 25)  # read a question and choose
CHOOSE = (6, 20)  # read a role-play line and pick a reply
HR_READ = (10, 40)
BETWEEN_SESSIONS = (5, 20)  # the seat's next learner sits down

ERROR_MARKERS = ('class="flash flash-error"', '<ul class="errors"')
# Sample names: one row per kind of request, not per URL.
NAMES = [
    (re.compile(r"^/lessons/[^/]+/time$"), "/lessons/[id]/time (heartbeat)"),
    (re.compile(r"^/lessons/[^/]+/complete$"), "/lessons/[id]/complete"),
    (re.compile(r"^/lessons/[^/]+$"), "/lessons/[id]"),
    (re.compile(r"^/modules/[^/]+$"), "/modules/[id]"),
    (re.compile(r"^/quizzes/[^/]+/attempts/[^/]+/save$"), "/quizzes/[id]/attempts/[id]/save (autosave)"),
    (re.compile(r"^/quizzes/[^/]+/attempts/[^/]+/(\w+)$"), r"/quizzes/[id]/attempts/[id]/\1"),
    (re.compile(r"^/quizzes/[^/]+/attempts/[^/]+$"), "/quizzes/[id]/attempts/[id]"),
    (re.compile(r"^/quizzes/[^/]+/start$"), "/quizzes/[id]/start"),
    (re.compile(r"^/quizzes/[^/]+$"), "/quizzes/[id]"),
    (re.compile(r"^/scenarios/[^/]+/runs/[^/]+/choose$"), "/scenarios/[id]/runs/[id]/choose"),
    (re.compile(r"^/scenarios/[^/]+/runs/[^/]+$"), "/scenarios/[id]/runs/[id]"),
    (re.compile(r"^/scenarios/[^/]+/start$"), "/scenarios/[id]/start"),
    (re.compile(r"^/scenarios/[^/]+$"), "/scenarios/[id]"),
    (re.compile(r"^/hr/learners/\d+$"), "/hr/learners/[id]"),
]
ACTIVITY = re.compile(r"^/(lessons|quizzes|scenarios)/[^/]+$")


def sample_name(method: str, url: str) -> str:
    path = urlsplit(url).path
    for pattern, name in NAMES:
        if pattern.match(path):
            return f"{method} {pattern.sub(name, path)}"
    return f"{method} {path}"


def think(bounds: tuple[float, float]) -> None:
    gevent.sleep(random.uniform(*bounds) * THINK_SCALE)


def paced(bounds: tuple[float, float]):
    """A Locust wait_time: a pause between sessions."""
    return lambda _user: random.uniform(*bounds) * THINK_SCALE


# --- pages: what a browser without JavaScript sees --------------------------------------------


class Form:
    """A POST form: where it goes, the fields sent as they are, its buttons, and its questions to answer."""

    def __init__(self, attrs: dict) -> None:
        self.action = attrs.get("action") or ""
        self.data_save_url = attrs.get("data-save-url")
        self.fixed: list[tuple[str, str]] = []  # hidden fields and pre-filled inputs
        self.buttons: list[tuple[str, str]] = []
        # fieldset id → {"radio"|"checkbox"|"text"|"number": [(name, value)], "select": [(name, [values])]}
        self.questions: dict[str, dict[str, list]] = {}

    def question(self, fieldset: str | None) -> dict[str, list]:
        kinds = ("radio", "checkbox", "text", "number", "select")
        return self.questions.setdefault(fieldset or "", {kind: [] for kind in kinds})


class Page(HTMLParser):
    """Forms (with their fields, grouped by fieldset), links and the lesson clock of one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[tuple[str, dict]] = []
        self.clock: dict | None = None
        self._form: Form | None = None
        self._fieldset: str | None = None
        self._select: tuple[str, list[str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attr_list: list) -> None:
        attrs = {k: v or "" for k, v in attr_list}
        if tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
        elif tag == "fieldset":
            self._fieldset = attrs.get("id")
        elif tag == "a" and attrs.get("href"):
            self.links.append((attrs["href"], attrs))
        elif tag == "div" and attrs.get("id") == "lesson-clock":
            self.clock = attrs
        elif self._form is not None and tag == "input" and attrs.get("name"):
            kind, name, value = attrs.get("type", "text"), attrs["name"], attrs.get("value", "")
            if kind in ("radio", "checkbox"):
                self._form.question(self._fieldset)[kind].append((name, value))
            elif kind == "text" and self._fieldset:
                numerical = "numerical-answer" in attrs.get("class", "")
                self._form.question(self._fieldset)["number" if numerical else "text"].append((name, value))
            elif kind not in ("submit", "button"):
                self._form.fixed.append((name, value))
        elif self._form is not None and tag == "button":
            self._form.buttons.append((attrs.get("name", ""), attrs.get("value", "")))
        elif self._form is not None and tag == "select" and attrs.get("name"):
            self._select = (attrs["name"], [])
            self._form.question(self._fieldset)["select"].append(self._select)
        elif self._select is not None and tag == "option" and attrs.get("value"):
            self._select[1].append(attrs["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "fieldset":
            self._fieldset = None
        elif tag == "select":
            self._select = None

    def form(self, action_ends: str) -> Form | None:
        return next((f for f in self.forms if urlsplit(f.action).path.endswith(action_ends)), None)

    def link(self, pattern: re.Pattern | str, **attrs: str) -> str | None:
        for href, found in self.links:
            if re.search(pattern, href) and all(value in found.get(key, "") for key, value in attrs.items()):
                return href
        return None


def answer(question: dict[str, list]) -> list[tuple[str, str]]:
    """A learner's (not always right) answer to one question, as form fields."""
    if question["radio"]:
        return [random.choice(question["radio"])]
    if question["checkbox"]:
        boxes = question["checkbox"]
        return random.sample(boxes, random.randint(1, len(boxes)))
    if question["text"]:
        return [(question["text"][0][0], random.choice(["先倾听，再确认需求", "主动沟通", "及时反馈", "换位思考"]))]
    if question["number"]:
        return [(question["number"][0][0], random.choice(["3", "12", "24", "48", "0.5"]))]
    selects = question["select"]
    if selects and all(v.isdigit() for _name, values in selects for v in values):  # ordering: each item a position
        positions = list(range(1, len(selects) + 1))
        random.shuffle(positions)
        return [(name, str(p)) for (name, _values), p in zip(selects, positions)]
    return [(name, random.choice(values)) for name, values in selects if values]


# --- users ------------------------------------------------------------------------------------


_pool = None


def next_login() -> str:
    """The next learner's login, each seat a different learner (wrapping round the list)."""
    global _pool
    if _pool is None:
        if LEARNERS_FILE:
            emails = Path(LEARNERS_FILE).read_text().split()
        else:  # bench/generate.py's learners
            emails = [f"learner{n}@bench.example.com" for n in range(10_000)]
        _pool = itertools.islice(itertools.cycle(emails), LEARNER_OFFSET % len(emails), None)
    StepShape.learners_used += 1
    return next(_pool)


class Browser(HttpUser):
    abstract = True
    login_name = ""

    def on_start(self) -> None:
        self.log_in()
        StepShape.seated += 1

    def request(self, method: str, url: str, data=None, json_reply=False, expect_redirect=False) -> tuple[str, str]:
        """One HTTP request judged as a user would; return (url, body) of the page finally shown.

        Redirects are followed, each its own sample.
        """
        headers = {"Accept": "application/json"} if json_reply else {}
        while True:
            name = sample_name(method, url)
            with self.client.request(
                method, url, data=data, headers=headers, name=name, allow_redirects=False, catch_response=True
            ) as response:
                location = response.headers.get("Location", "")
                status = response.status_code
                body = response.text or ""
                if not 200 <= status < 400:
                    response.failure(f"HTTP {status}")
                elif expect_redirect and status < 300:
                    response.failure("no redirect: the form came back")
                elif status < 300 and any(marker in body for marker in ERROR_MARKERS):
                    response.failure("the page shows an error")
                elif status >= 300 and urlsplit(location).path == "/login" and not url.endswith("/logout"):
                    response.failure("sent to the login page: signed out")
                else:
                    response.success()
            if not 300 <= status < 400:
                return url, body
            url, method, data, headers, expect_redirect = urljoin(url, location), "GET", None, {}, False

    def get(self, url: str) -> Page:
        _url, body = self.request("GET", url)
        return Page(body)

    def submit(self, form: Form, fields: list[tuple[str, str]] = (), **options) -> tuple[str, Page]:
        url, body = self.request("POST", form.action, data=form.fixed + list(fields), **options)
        return url, Page(body)

    def log_in(self) -> None:
        self.login_name = self.next_login()
        self.client.cookies.clear()
        page = self.get("/login")
        form = next((f for f in page.forms if any(name == "password" for name, _v in f.fixed)), None)
        if form is None:
            return
        fields = [(k, v) for k, v in form.fixed if k not in ("email", "password")]
        form.fixed = fields + [("email", self.login_name), ("password", PASSWORD)]
        form.action = "/login"
        self.submit(form, expect_redirect=True)

    def log_out(self, page: Page) -> None:
        form = page.form("/logout")
        if form is not None:
            self.submit(form)

    def next_login(self) -> str:
        raise NotImplementedError


class Learner(Browser):
    """Study in sessions of a few activities, then log out and give the seat to the next learner."""

    weight = 98
    wait_time = paced(BETWEEN_SESSIONS)

    def next_login(self) -> str:
        return next_login()

    @task
    def session(self) -> None:
        page = self.get("/")
        for _ in range(random.randint(3, 8)):
            think(PAGE_GLANCE)
            url = page.link(ACTIVITY, rel="next") or page.link(ACTIVITY, **{"class": "primary"})
            if url is None or random.random() < 0.3:
                module = random.choice([href for href, _a in page.links if href.startswith("/modules/")] or ["/"])
                page = self.get(module)
                think(PAGE_GLANCE)
                activities = [href for href, _a in page.links if ACTIVITY.match(urlsplit(href).path)]
                if not activities:
                    continue
                url = random.choice(activities)
            page = self.activity(url)
        if random.random() < 0.2:
            think(PAGE_GLANCE)
            page = self.get("/progress")
        think(PAGE_GLANCE)
        self.log_out(page)
        self.log_in()

    def activity(self, url: str) -> Page:
        """Do one lesson, quiz or role-play; return the page with its "Next" link."""
        kind = urlsplit(url).path.split("/")[1]
        return {"lessons": self.lesson, "quizzes": self.quiz, "scenarios": self.roleplay}[kind](url)

    def lesson(self, url: str) -> Page:
        page = self.get(url)
        clock = page.clock
        if clock:  # lesson-time.js: a beat every data-interval seconds while the page is visible
            for _ in range(random.randint(2, 6)):
                gevent.sleep(float(clock["data-interval"]) * random.uniform(0.95, 1.05) * THINK_SCALE)
                beat = {"csrf_token": clock["data-csrf"], "event": "beat"}
                self.request("POST", clock["data-url"], data=beat, json_reply=True)
        complete = page.form("/complete")
        if complete is not None:
            _url, page = self.submit(complete)
        return page

    def quiz(self, url: str) -> Page:
        page = self.get(url)
        think(PAGE_GLANCE)
        resume = page.link(r"/attempts/[^/]+$", **{"class": "primary"})
        start = page.form("/start")
        if resume:
            page = self.get(resume)
        elif start is not None:
            _url, page = self.submit(start)
        form = page.form("/submit")
        if form is None:  # no attempts left
            return page
        fields: list[tuple[str, str]] = []
        for question in form.questions.values():
            think(ANSWER)
            fields += answer(question)
            if form.data_save_url:  # quiz.js: save the whole form after each change
                self.request("POST", form.data_save_url, data=form.fixed + fields, json_reply=True)
        _url, page = self.submit(form, fields)
        anyway = page.form("/submit")  # quizzes/unanswered.html: some answers were not taken
        if anyway is not None and any(name == "submit_anyway" for name, _v in anyway.fixed):
            _url, page = self.submit(anyway)
        return page

    def roleplay(self, url: str) -> Page:
        page = self.get(url)
        think(PAGE_GLANCE)
        start = page.form("/start")
        if start is None:
            return page
        _url, page = self.submit(start)
        for _ in range(40):
            form = page.form("/choose")
            if form is None:
                break
            think(CHOOSE)
            choice = random.choice([b for b in form.buttons if b[0] == "choice"])
            _url, page = self.submit(form, [choice])
        return page


class HR(Browser):
    """HR checks on the training: dashboard, the learner matrix, one learner's record."""

    weight = 2
    wait_time = paced(HR_READ)

    def next_login(self) -> str:
        return HR_LOGIN

    @task
    def look(self) -> None:
        self.get("/hr/")
        think(HR_READ)
        matrix = self.get(f"/hr/learners?page={random.randint(1, 20)}")
        learners = [href for href, _a in matrix.links if re.match(r"^/hr/learners/\d+$", href)]
        if learners:
            think(HR_READ)
            self.get(random.choice(learners))


# --- the load: steps of concurrent users, each measured alone ---------------------------------


class StepShape(LoadTestShape):
    """Ramp to each step's users until every seat has logged in, settle, then hold and measure.

    Stop after the first step that fails. The ramp waits for the logins (at most RAMP_GRACE seconds
    longer than the spawn rate needs), so a slow machine does not carry one step's logins into the
    next step's measurement.
    """

    learners_used = 0
    seated = 0  # users whose first login is done

    def __init__(self) -> None:
        super().__init__()
        self.step = 0
        self.phase = "ramp"
        self.started = time.monotonic()
        self.seated_at: float | None = None
        self.results: list[dict] = []

    def tick(self):
        users, now = STEPS[self.step], time.monotonic()
        if self.phase == "ramp":
            if StepShape.seated >= users and self.seated_at is None:
                self.seated_at = now
            previous = STEPS[self.step - 1] if self.step else 0
            late = now - self.started > (users - previous) / SPAWN_RATE + RAMP_GRACE
            if (self.seated_at is not None and now - self.seated_at >= SETTLE_SECONDS) or late:
                self.next_phase("hold")
        elif now - self.started >= STEP_SECONDS:
            self.next_phase("ramp")
            if (not KEEP_GOING and not self.results[-1]["ok"]) or self.step + 1 == len(STEPS):
                return None
            self.step += 1
        return STEPS[self.step], SPAWN_RATE

    def next_phase(self, phase: str) -> None:
        self.finish_phase(STEPS[self.step], self.phase)
        self.phase, self.started, self.seated_at = phase, time.monotonic(), None
        self.runner.stats.reset_all()

    def finish_phase(self, users: int, phase: str) -> None:
        total = self.runner.stats.total
        seconds = max(time.monotonic() - self.started, 1e-9)
        slowest = sorted(
            (entry for entry in self.runner.stats.entries.values() if entry.num_requests),
            key=lambda entry: entry.get_response_time_percentile(0.95), reverse=True,
        )[:3]
        result = {
            "users": users, "phase": phase, "seconds": round(seconds, 1), "requests": total.num_requests,
            "failures": total.num_failures, "rps": round(total.num_requests / seconds, 2),
            "p50": total.get_response_time_percentile(0.5) if total.num_requests else None,
            "p95": total.get_response_time_percentile(0.95) if total.num_requests else None,
            "p99": total.get_response_time_percentile(0.99) if total.num_requests else None,
            "slowest": [[entry.name, entry.get_response_time_percentile(0.95)] for entry in slowest],
            "errors": [[str(e.error), e.occurrences, e.name] for e in self.runner.stats.errors.values()][:5],
            "locust_cpu": round(self.runner.current_cpu_usage, 1),
            "load_average": [round(n, 2) for n in os.getloadavg()],
            "learners_used": StepShape.learners_used,
            "mix": {e.name: e.num_requests for e in self.runner.stats.entries.values() if e.num_requests},
        }
        result["ok"] = bool(total.num_requests) and result["p95"] < P95_MS and not total.num_failures
        self.results.append(result)
        if RESULTS:
            Path(RESULTS).write_text(json.dumps(self.results, indent=1, ensure_ascii=False), encoding="utf-8")
