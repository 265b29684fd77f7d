"""Benchmark Courseware against baselines measured in the same run; print one table per database.

    python bench/run.py                      # 10,000 learners, SQLite then PostgreSQL (if reachable)
    python bench/run.py --learners 2000 --backends sqlite --duration 5

Each case is reported beside its baseline and the ratio of the two:
- pages under load (wrk against gunicorn, every request a different logged-in learner): requests
  per second, against a bare Flask endpoint returning as many bytes under the same gunicorn settings;
- HR pages (one connection): mean time per page, against replaying the page's own SQL on a raw
  database connection (so the ratio is what Python, templates and HTTP add to the SQL);
- exports: peak memory growth while the whole file streams, against the 50 MB target;
- HR at scale (`--cases hr`): the dashboard, the learner list's first page and the internal-customer view
  at 10,000 and 100,000 learners (only what HR's pages read is generated), each against its own SQL and
  against 300 ms, their growth from 10,000 to 100,000 against 1.5×, and the exports at 100,000;
- publishing: the real course and a generated course of 1,000 lessons, against their targets.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = Path(os.environ.get("BENCH_DATA", BENCH / "data"))  # generated data, markers, results
sys.path.insert(0, str(ROOT))

SECRET_KEY = "bench-secret-key"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
PG_SCHEMA = os.environ.get("BENCH_SCHEMA", "courseware_bench")  # and <PG_SCHEMA>_hr10000, …
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
PYTHON = sys.executable
KEEP_DATA = "--keep-data" in sys.argv  # reuse generated data even if the course or the models changed since
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
GENERATORS = 2  # data sets generated at once: one per core of the 2-core machine the figures come from


@dataclass
class Row:
    case: str
    value: float
    baseline: float
    unit: str
    target: str
    ok: bool | None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


# --- databases ------------------------------------------------------------------------------


def database_url(backend: str, name: str = "bench") -> str | None:
    """The URL of data set `name`: bench/data/<name>.db, or its own PostgreSQL schema (None: no server)."""
    if backend == "sqlite":
        return f"sqlite:///{DATA / f'{name}.db'}"
    from sqlalchemy import create_engine, text

    schema = PG_SCHEMA if name == "bench" else f"{PG_SCHEMA}_{name.replace('-', '')}"
    try:
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - reported and skipped
        print(f"PostgreSQL skipped: {str(error).splitlines()[0]}")
        return None
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def fresh_postgres_schema(schema: str) -> str | None:
    """A PostgreSQL URL whose tables go into `schema`, emptied first; None when no server answers."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(PG_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError:
        return None
    finally:
        engine.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@dataclass(frozen=True)
class DataSet:
    """A generated data set: the main one (`bench`) or HR's at one size (`hr-<learners>`), on one backend."""

    backend: str
    url: str
    learners: int
    name: str = "bench"
    extra: tuple[str, ...] = ()  # more arguments for generate.py

    @property
    def marker(self) -> Path:
        return DATA / (f"{self.backend}.generated" if self.name == "bench" else f"{self.backend}-{self.name}.generated")

    @property
    def wanted(self) -> str:
        """What the marker says once generated: the arguments, and a stamp of the generator, models and course."""
        stamp = hashlib.sha256()
        sources = [BENCH / "generate.py", *sorted((ROOT / "courseware" / "models").glob("*.py"))]
        for path in [*sources, *sorted((ROOT / "lessons").rglob("*.md")), *sorted((ROOT / "quizzes").glob("*.yaml"))]:
            stamp.update(path.read_bytes())
        return f"{self.learners}:{' '.join(self.extra)}:{stamp.hexdigest()}"

    def ready(self) -> bool:
        found = self.marker.read_text() if self.marker.exists() else ""
        return found == self.wanted or KEEP_DATA and found.startswith(f"{self.learners}:{' '.join(self.extra)}:")

    def generate(self) -> subprocess.Popen:
        self.marker.unlink(missing_ok=True)
        print(f"[{self.backend}] generating {self.name}: {self.learners:,} learners {' '.join(self.extra)}".rstrip() + " …", flush=True)
        return subprocess.Popen([PYTHON, str(BENCH / "generate.py"), "--database-url", self.url, "--learners", str(self.learners), *self.extra])


def prepare(data_sets: list[DataSet]) -> None:
    """Generate every data set not there already, GENERATORS at a time and the most work first, before
    anything is measured (reused while the generator, the models and the course stay unchanged)."""
    waiting = []
    for data_set in data_sets:
        if data_set.ready():
            print(f"[{data_set.backend}] reusing {data_set.name} ({data_set.learners:,} learners)")
        else:
            waiting.append(data_set)
    waiting.sort(key=lambda d: d.learners * (1 if d.extra else 10), reverse=True)  # a detailed learner: ten times the rows
    started = time.perf_counter()
    running: dict[subprocess.Popen, tuple[DataSet, str]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < GENERATORS:
                data_set = waiting.pop(0)
                running[data_set.generate()] = (data_set, data_set.wanted)
            for process in [process for process in running if process.poll() is not None]:
                data_set, wanted = running.pop(process)
                if process.returncode:
                    raise RuntimeError(f"generating {data_set.backend} {data_set.name} failed")
                data_set.marker.write_text(wanted)
            time.sleep(0.2)
    finally:
        for process in running:
            process.terminate()
            process.wait()
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)


def data_sets(args, urls: dict[str, str]) -> list[DataSet]:
    """The data sets this run measures on, for each backend with a URL."""
    wanted = []
    for backend, url in urls.items():
        if args.cases == "all":
            wanted.append(DataSet(backend, url, args.learners))
        for learners in args.hr_learners:
            name = f"hr-{learners}"
            hr_url = database_url(backend, name)
            if hr_url:
                wanted.append(DataSet(backend, hr_url, learners, name, ("--detail", "0")))
    return wanted


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


READY = {"app:app": "/healthz", "bench.baseline:app": "/bytes/1", "bench.floor:app": "/ready"}


@contextmanager
def gunicorn(app: str, workers: int, env: dict[str, str]):
    port = free_port()
    process = subprocess.Popen(
        [GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env={**os.environ, **env}, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urlopen(base + READY[app], timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise RuntimeError(f"gunicorn {app} did not start")
    try:
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def wrk(base: str, lines: list[str], connections: int, duration: int, threads: int = 2) -> dict[str, float]:
    """Run wrk over `lines` (one request each, in turn); return requests/s and mean latency."""
    requests_file = DATA / "requests.tsv"
    requests_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", "--latency",
         "-s", str(BENCH / "requests.lua"), base, "--", str(requests_file)],
        capture_output=True, text=True, check=True,
    ).stdout
    found = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) bad=(\d+) mean_ms=([\d.]+)", out)
    if not found:
        raise RuntimeError(out)
    requests, seconds, bad, mean_ms = int(found[1]), float(found[2]), int(found[3]), float(found[4])
    if bad:
        raise RuntimeError(f"{bad} of {requests} requests failed:\n{out}")
    return {"rps": requests / seconds, "mean_ms": mean_ms, "requests": requests}


FLOOR_PAIRS = 3


def against_floor(site: str, floor: str, lines: list[str], floor_lines: list[str], args) -> tuple[dict, dict, list[float]]:
    """The page and the floor measured in turn FLOOR_PAIRS times, each run half as long; the pair with the median ratio,
    and every pair's ratio in order.

    The floor is mostly SQL and sockets, the page mostly Python: on a shared virtual machine their speeds drift apart
    from minute to minute, and a single run of each judged the page by whichever way the machine had just moved.
    """
    seconds = max(1, round(args.duration / 2))
    pairs = []
    for _ in range(FLOOR_PAIRS):
        page = wrk(site, lines, args.connections, seconds)
        pairs.append((page, wrk(floor, floor_lines, args.connections, seconds)))
    ratios = [page["rps"] / least["rps"] for page, least in pairs]
    page, least = sorted(pairs, key=lambda pair: pair[0]["rps"] / pair[1]["rps"])[len(pairs) // 2]
    return page, least, ratios


def page_time(base: str, line: str, repeats: int) -> float:
    """Median ms to fetch one page over HTTP, one request at a time (after one warm-up request)."""
    _method, path, cookie, _body = line.split("\t")
    timings = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        with urlopen(Request(base + path, headers={"Cookie": cookie}), timeout=120) as response:
            response.read()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings[1:])


# --- sessions: signed cookies for logged-in learners, as the app itself would set them ------


class Sessions:
    def __init__(self, app) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.serializer = app.session_interface.get_signing_serializer(app)
        self.csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        self.name = app.config["SESSION_COOKIE_NAME"]
        # What Flask-Login's sign-in stores for wrk's requests (from 127.0.0.1, no User-Agent): without it every
        # request would find the session unprotected, mark it not fresh and send a new cookie, as no browser's does.
        with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            from flask_login.utils import _create_identifier

            self.identifier = _create_identifier()

    def cookie(self, user_id: int) -> tuple[str, str]:
        """Return a session cookie for `user_id` and a CSRF token valid with it (in an app context; the caller commits)."""
        from courseware.people.sessions import open_session

        raw = secrets.token_hex(20)
        value = self.serializer.dumps({"_user_id": open_session(user_id), "_fresh": True, "_id": self.identifier, "csrf_token": raw})
        return f"{self.name}={value}", self.csrf.dumps(raw)


# --- cases ----------------------------------------------------------------------------------


def bench_backend(backend: str, url: str, args) -> list[Row]:
    from courseware import create_app

    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(DATA / "instance"), "RATELIMIT_ENABLED": "true"}
    if backend == "postgresql":
        env["REDIS_URL"] = REDIS_URL
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(DATA / "instance")})
    plan = plan_requests(app, args.sessions)
    rows: list[Row] = []
    floor_env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY}
    with (
        gunicorn("app:app", args.workers, env) as site,
        gunicorn("bench.baseline:app", args.workers, {}) as bare,
        gunicorn("bench.floor:app", args.workers, floor_env) as floor,
    ):
        for case, lines, target in (
            ("lesson page", plan["lesson"], 0.35),  # the pages' targets are against the floor, the quizzes' against bare Flask
            ("trainee home", plan["home"], 0.25),
            ("quiz: save answers", plan["save"], 0.16 if backend == "sqlite" else 0.08),
            ("quiz: submit", plan["submit"], 0.09),
        ):
            size = len(urlopen(Request(site + lines[0].split("\t")[1], headers={"Cookie": lines[0].split("\t")[2]})).read()) if not case.startswith("quiz") else 60
            wrk(site, lines[:50], args.connections, 2)  # warm every worker
            if case.startswith("quiz"):
                measured = wrk(site, lines, args.connections, args.duration)
                if case == "quiz: submit" and measured["requests"] + 50 > len(lines):
                    raise RuntimeError(f"only {len(lines)} open attempts for {measured['requests']} submits: regenerate the data")
                baseline = wrk(bare, [f"GET\t/bytes/{size}\t\t"], args.connections, args.duration)
                rows.append(Row(case, measured["rps"], baseline["rps"], "req/s", f"≥ {target}× bare Flask", measured["rps"] / baseline["rps"] >= target,
                                f"{size} bytes, {measured['mean_ms']:.0f} ms mean"))
                continue
            floor_lines = [f"GET\t/floor/{size}\t{line.split(chr(9))[2]}\t" for line in lines]
            measured, least, ratios = against_floor(site, floor, lines, floor_lines, args)
            baseline = wrk(bare, [f"GET\t/bytes/{size}\t\t"], args.connections, args.duration)
            rows.append(Row(case, measured["rps"], least["rps"], "req/s", f"≥ {target}× the floor", measured["rps"] / least["rps"] >= target,
                            f"{size} bytes, {measured['mean_ms']:.0f} ms mean; baseline: the floor at this size; the median of "
                            f"{len(ratios)} runs each beside its own floor ({', '.join(f'{r:.2f}' for r in ratios)})"))
            rows.append(Row(f"floor at the {case}'s size: session, user and progress read with raw SQL, no template", least["rps"],
                            baseline["rps"], "req/s", "—", None, "the least any logged-in page does (bench/floor.py); baseline: bare Flask"))
        # Since the progress tallies, HR's pages run a few milliseconds of SQL: their target is the time itself.
        for case, line, user_id, target in (
            ("HR dashboard, with every learning record", plan["dashboard"], plan["hr_id"], 300),
            ("HR learner matrix (page 100), with every learning record", plan["matrix"], plan["hr_id"], 300),
            ("trainer analytics overview, recomputed", plan["analytics"], plan["trainer_id"], None),
        ):
            repeats = 3 if target is None else 20
            page_ms = page_time(site, line, repeats)
            sql_ms = replay_sql(app, line.split("\t")[1], user_id, repeats)
            rows.append(Row(case, page_ms, sql_ms, "ms", f"≤ {target} ms" if target else "—", page_ms <= target if target else None,
                            "baseline: the page's own SQL replayed"))
        if backend == "postgresql":
            rows.append(check_workers_agree(app, site))
    for fmt in ("csv", "xlsx"):
        growth, seconds = measure_export(url, fmt)
        rows.append(Row(f"{fmt.upper()} export, all learners: peak memory growth", growth, 50, "MB", "< 50 MB", growth < 50, f"{seconds:.1f} s"))
    return rows


HR_PAGES = (
    ("HR dashboard", "/hr/"),
    ("HR learner list, first page", "/hr/learners"),
    ("HR internal-customer view", "/hr/internal-customers"),
)
HR_TARGET_MS, HR_GROWTH = 300, 1.5


def bench_hr(backend: str, args) -> list[Row]:
    """HR's pages at each of `--hr-learners` (one gunicorn worker, one request at a time), their growth from
    the smallest to the largest, and the exports at the largest."""
    from sqlalchemy import select

    from courseware import create_app
    from courseware.extensions import db
    from courseware.models import Role, UserRole

    rows: list[Row] = []
    measured: dict[tuple[str, int], float] = {}
    sizes = sorted(args.hr_learners)
    for learners in sizes:
        url = database_url(backend, f"hr-{learners}")
        if url is None:
            return rows
        config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(DATA / "instance")}
        app = create_app(config)
        with app.app_context():
            hr_id = db.session.scalar(select(UserRole.user_id).where(UserRole.role == Role.HR.value))
            cookie, _token = Sessions(app).cookie(hr_id)
            db.session.commit()
        env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(DATA / "instance")}
        with gunicorn("app:app", 1, env) as site:
            for case, path in HR_PAGES:
                page_ms = page_time(site, f"GET\t{path}\t{cookie}\t", args.hr_repeats)
                sql_ms = replay_sql(app, path, hr_id, args.hr_repeats)
                measured[(case, learners)] = page_ms
                rows.append(Row(f"{case} ({learners:,} learners)", page_ms, sql_ms, "ms", f"≤ {HR_TARGET_MS} ms",
                                page_ms <= HR_TARGET_MS, "baseline: the page's own SQL replayed"))
        if learners == sizes[-1]:
            print(f"[{backend}] exports at {learners:,} learners …", flush=True)
            for fmt, (growth, seconds) in measure_exports(url, ("csv", "xlsx")).items():
                rows.append(Row(f"{fmt.upper()} export, {learners:,} learners: peak memory growth", growth, 50, "MB", "< 50 MB",
                                growth < 50, f"{seconds:.1f} s"))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for case, _path in HR_PAGES:
            growth = measured[(case, large)] / measured[(case, small)]
            rows.append(Row(f"{case}: {large:,} learners against {small:,}", measured[(case, large)], measured[(case, small)], "ms",
                            f"≤ {HR_GROWTH}×", growth <= HR_GROWTH, "ratio: the growth"))
    return rows


def answer_fields(question, answer) -> list[tuple[str, str]]:
    """The form fields a learner's browser sends for `answer` to `question`."""
    kind = question.kind
    if kind in ("single", "short_answer", "numerical"):
        return [(question.field(), answer)]
    if kind == "multiple":
        return [(question.field(), value) for value in answer]
    if kind == "true_false":
        return [(question.field(), "true" if answer else "false")]
    if kind == "ordering":
        return [(question.field(item), str(position)) for position, item in enumerate(answer, 1)]
    return [(question.field(left), right) for left, right in answer.items()]


def plan_requests(app, count: int) -> dict:
    """Pick learners and write the requests each case sends, one learner per request in turn."""
    from sqlalchemy import select

    from courseware.extensions import db
    from courseware.learning import records
    from courseware.models import Progress, Role, User, UserRole
    from courseware.publishing import live_course

    sessions = Sessions(app)
    plan: dict = {"lesson": [], "home": [], "save": [], "submit": []}
    with app.test_request_context():
        live = live_course()
        course = live.course
        # Pages: `count` learners. Quizzes: three times as many, each at the last two quizzes they can still attempt,
        # so a run never runs out of open attempts (a second submit of the same attempt would measure a redirect).
        learners = db.session.scalars(
            select(User.id).join(Progress, Progress.user_id == User.id)
            .where(Progress.activity_id == course.id, Progress.status != "completed").order_by(User.id).limit(3 * count)
        ).all()
        cookies = {user_id: sessions.cookie(user_id) for user_id in learners}
        db.session.commit()
        rounds: list[list[tuple[str, str]]] = [[], []]  # (save, submit) lines: each learner's last quiz, then the one before
        for user_id in learners:
            db.session.expunge_all()  # one learner at a time: every commit would go through all of them
            user = db.session.get(User, user_id)
            opened = 0
            for quiz in reversed(course.quizzes):
                try:
                    attempt = records.current_attempt(user, quiz.id) or records.start_attempt(user, live, quiz)
                except records.NoAttemptsLeft:
                    continue
                cookie, token = cookies[user_id]
                path = f"/quizzes/{quiz.id}/attempts/{attempt.id}"
                # Right answers to the questions drawn for this attempt, the fields its page has (not every question of the quiz)
                body = urlencode([field for q in quiz.drawn(attempt.question_ids) for field in answer_fields(q, q.correct_answer())])
                rounds[opened].append((f"POST\t{path}/save\t{cookie}\tcsrf_token={token}&{body}",
                                       f"POST\t{path}/submit\t{cookie}\tcsrf_token={token}&{body}"))
                opened += 1
                if opened == len(rounds):
                    break
        # A run that outlasts the first round (fast submits on SQLite) goes on to the learners' second quizzes.
        for save, submit in [*rounds[0], *rounds[1]]:
            plan["save"].append(save)
            plan["submit"].append(submit)
        # Last, so the lesson case runs within the visit: it measures a learner reading a lesson they have open,
        # not the first open's writes (the progress, the record and the reading clock, once per learner and lesson).
        for n, user_id in enumerate(learners[:count]):
            db.session.expunge_all()
            user = db.session.get(User, user_id)
            lesson = course.lessons[n % len(course.lessons)]
            records.open_lesson(user, live, lesson)
            records.time_lesson(user, live, lesson, "open")
            plan["lesson"].append(f"GET\t/lessons/{lesson.id}\t{cookies[user_id][0]}\t")
            plan["home"].append(f"GET\t/\t{cookies[user_id][0]}\t")
        hr_id = db.session.scalar(select(UserRole.user_id).where(UserRole.role == Role.HR.value))
        hr_cookie, _token = sessions.cookie(hr_id)
        trainer_id = db.session.scalar(select(UserRole.user_id).where(UserRole.role == Role.TRAINER.value))
        trainer_cookie, _token = sessions.cookie(trainer_id)
        db.session.commit()
    plan["hr_id"], plan["trainer_id"] = hr_id, trainer_id
    plan["analytics"] = f"GET\t/studio/analytics?fresh=1\t{trainer_cookie}\t"
    plan["dashboard"] = f"GET\t/hr/\t{hr_cookie}\t"
    plan["matrix"] = f"GET\t/hr/learners?page=100\t{hr_cookie}\t"
    return plan


def replay_sql(app, path: str, user_id: int, repeats: int = 20) -> float:
    """Run the SQL a page runs, captured from one request, on a raw connection; median ms."""
    from sqlalchemy import event

    from courseware.extensions import db
    from courseware.people.sessions import open_session

    captured: list[tuple[str, object]] = []
    with app.app_context():
        engine = db.engine
        login_token = open_session(user_id)
        db.session.commit()

        def capture(conn, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = login_token, True
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        event.remove(engine, "before_cursor_execute", capture)
        statements = [(s, p) for s, p in captured if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        timings = []
        connection = engine.raw_connection()
        try:
            for _ in range(repeats):
                started = time.perf_counter()
                cursor = connection.cursor()
                for statement, parameters in statements:
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
                cursor.close()
                timings.append((time.perf_counter() - started) * 1000)
            connection.rollback()
        finally:
            connection.close()
    return statistics.median(timings)


def check_workers_agree(app, site: str) -> Row:
    """Publish a changed course; after CONTENT_CHECK_SECONDS every worker must serve the new revision."""
    from courseware.content import read_sources
    from courseware.publishing import publish

    sources = read_sources(ROOT / "lessons")
    path = next(p for p in sources if p.endswith("01-definition.md"))
    with app.app_context():
        revision = publish({**sources, path: sources[path] + f"\n<!-- bench {time.time()} -->\n".encode()}, note="bench").revision.id
    time.sleep(app.config["CONTENT_CHECK_SECONDS"] + 0.2)
    seen = [json.loads(urlopen(site + "/healthz").read())["serving"] for _ in range(40)]
    agree = sum(1 for r in seen if r == revision)
    with app.app_context():
        publish(sources, note="bench: back")
    return Row("a publish reaches every worker", agree, len(seen), "requests", "all, within CONTENT_CHECK_SECONDS", agree == len(seen),
               f"revision {revision}, {app.config['CONTENT_CHECK_SECONDS']:g} s")


def measure_export(url: str, fmt: str) -> tuple[float, float]:
    return measure_exports(url, (fmt,))[fmt]


def measure_exports(url: str, formats: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """Peak memory growth (MB) and seconds of each export, each streamed by a fresh process of its own, all at
    once (a process's peak is its own; on the 2-core machine each has a core to itself)."""
    processes = {
        fmt: subprocess.Popen([PYTHON, str(BENCH / "run.py"), "--measure-export", url, fmt], stdout=subprocess.PIPE, text=True)
        for fmt in formats
    }
    measured = {}
    for fmt, process in processes.items():
        out, _err = process.communicate()
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, process.args, out)
        growth, seconds = out.split()
        measured[fmt] = float(growth), float(seconds)
    return measured


def _high_water_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024


def export_memory(url: str, fmt: str) -> None:
    """In a fresh process: warm up, then stream the whole export; print peak RSS growth (MB) and seconds."""
    from sqlalchemy import select

    from courseware import create_app
    from courseware.extensions import db
    from courseware.models import Role, UserRole
    from courseware.people.sessions import open_session

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(DATA / "instance")})
    client = app.test_client()
    with app.app_context():
        hr_id = db.session.scalar(select(UserRole.user_id).where(UserRole.role == Role.HR.value))
        login_token = open_session(hr_id)
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = login_token, True
    client.get("/hr/").close()
    Path("/proc/self/clear_refs").write_text("5")
    before = _high_water_mb()
    started = time.perf_counter()
    response = client.get(f"/hr/learners.{fmt}")
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    seconds = time.perf_counter() - started
    assert response.status_code == 200 and size > 10_000, (response.status_code, size)
    print(f"{_high_water_mb() - before:.1f} {seconds:.2f}")


def publishing_rows() -> list[Row]:
    """Publish the real course and a generated 1,000-lesson course into a fresh database."""
    import markdown

    from courseware import create_app
    from courseware.content import read_sources
    from courseware.extensions import db
    from courseware.publishing import publish

    sources = read_sources(ROOT / "lessons")
    big = generated_course(sources, 1000)
    rows = []
    for case, files, target in (("publish the course", sources, 1.0), ("publish a 1,000-lesson course", big, 10.0)):
        database = DATA / "publish.db"
        database.unlink(missing_ok=True)
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(DATA / "instance")})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            publish(files)
            seconds = time.perf_counter() - started
            db.engine.dispose()
        texts = [t.decode() for p, t in files.items() if p.endswith(".md")]
        started = time.perf_counter()
        for text in texts:
            markdown.markdown(text)
        render_only = time.perf_counter() - started
        rows.append(Row(case, seconds, render_only, "s", f"< {target:g} s", seconds < target,
                        f"{sum(1 for p in files if p.endswith('.md'))} Markdown files; baseline: python-markdown alone"))
    return rows


def generated_course(sources: dict[str, bytes], lessons: int) -> dict[str, bytes]:
    """The real course with its modules copied until it has `lessons` lessons."""
    import posixpath

    real = {p: t.decode() for p, t in sources.items()}
    module_paths = sorted(p for p in real if p.endswith("/module.md"))
    files = dict(real)
    count, copy = sum(1 for p in real if p.count("/") == 2 and not p.endswith("module.md")), 0
    while count < lessons:
        copy += 1
        for module_path in module_paths:
            folder = posixpath.dirname(module_path)
            new_folder = f"{folder}-copy{copy}"
            text = real[module_path]
            text = re.sub(r"^id: (.+)$", rf"id: \1-copy{copy}", text, count=1, flags=re.M)
            text = re.sub(r"^order: (\d+)$", lambda m: f"order: {int(m[1]) + 100 * copy}", text, count=1, flags=re.M)
            text = re.sub(r"^(quiz|scenarios):.*\n", "", text, flags=re.M)
            text = re.sub(r"^completion:\n(  .*\n)+", "", text, flags=re.M)
            files[f"{new_folder}/module.md"] = text
            for path in sorted(p for p in real if posixpath.dirname(p) == folder and p != module_path):
                files[f"{new_folder}/{posixpath.basename(path)}"] = re.sub(r"^id: (.+)$", rf"id: \1-copy{copy}", real[path], count=1, flags=re.M)
                count += 1
                if count >= lessons:
                    break
            if count >= lessons:
                break
    return {p: t.encode() for p, t in files.items()}


# --- report ---------------------------------------------------------------------------------


def table(title: str, rows: list[Row]) -> str:
    lines = [f"### {title}", "", "| Case | Measured | Baseline | Ratio | Target | Met | Note |", "|---|---:|---:|---:|---|---|---|"]
    for r in rows:
        met = "—" if r.ok is None else ("yes" if r.ok else "**NO**")
        lines.append(f"| {r.case} | {r.value:,.1f} {r.unit} | {r.baseline:,.1f} {r.unit} | {r.ratio:.2f} | {r.target} | {met} | {r.note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--sessions", type=int, default=2000, help="distinct logged-in learners")
    parser.add_argument("--cases", default="all", choices=["all", "hr"], help="hr: only HR at 10,000 and 100,000 learners")
    parser.add_argument("--hr-learners", type=lambda text: [int(n) for n in text.split(",")], default=[10_000, 100_000],
                        help="learner counts for the HR cases (default 10000,100000)")
    parser.add_argument("--hr-repeats", type=int, default=10, help="requests per HR page")
    parser.add_argument("--keep-data", action="store_true", help="reuse the generated data even if the course or the models changed")
    parser.add_argument("--measure-export", nargs=2, metavar=("URL", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_export:
        export_memory(*args.measure_export)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    DATA.mkdir(parents=True, exist_ok=True)
    urls = {backend: url for backend in args.backends.split(",") if (url := database_url(backend))}
    prepare(data_sets(args, urls))
    report = [f"`python bench/run.py {' '.join(sys.argv[1:])}` · {args.learners:,} learners, gunicorn -w {args.workers}, "
              f"wrk -c {args.connections} for {args.duration} s, {os.cpu_count()} CPU cores"]
    if args.cases == "hr":
        report = [f"`python bench/run.py {' '.join(sys.argv[1:])}` · HR pages on gunicorn -w 1, one request at a time, "
                  f"median of {args.hr_repeats}; {os.cpu_count()} CPU cores"]
    if args.cases == "all":
        print("publishing …", flush=True)
        report.append(table("Publishing", publishing_rows()))
    for backend, url in urls.items():
        title = "SQLite" if backend == "sqlite" else "PostgreSQL + Redis"
        if args.cases == "all":
            print(f"[{backend}] pages under load, HR pages, exports …", flush=True)
            report.append(table(title, bench_backend(backend, url, args)))
        print(f"[{backend}] HR at scale …", flush=True)
        report.append(table(f"{title}: HR at {' and '.join(f'{n:,}' for n in sorted(args.hr_learners))} learners", bench_hr(backend, args)))
    text = "\n\n".join(report) + "\n"
    (DATA / "results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
