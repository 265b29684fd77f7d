"""Time the survey results pages for 10,000 employees who each rated five departments, against the
1-second target of issue M and against the pages' own SQL.

    python bench/surveys.py                       # 10,000 employees, SQLite then PostgreSQL (if reachable)
    python bench/surveys.py --employees 2000 --backends sqlite

Generates ~20 departments, the employees, one round rating every department and, per employee,
five ratings of departments other than their own (participation and anonymous response rows, in
bulk, as answering writes them), plus a previous round so trends and plans have something to show.
Then measures, in-process with the test client, the median time of the round's results page (HR,
all departments: scorecards, the heatmap, low-rated interfaces) and of one department's page (its
head: scorecard, trend, comments, plans). The baseline beside each is the page's own SQL replayed
on a raw connection (bench/run.py's `replay_sql`), so the ratio is what Python and templates add.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import PG_URL, Row, fresh_postgres_schema, replay_sql, table  # noqa: E402 - bench/run.py, beside this file

from courseware import create_app  # noqa: E402
from courseware.extensions import db  # noqa: E402
from courseware.models import (  # noqa: E402
    Role,
    SurveyParticipation,
    SurveyResponse,
    SurveyRound,
    SurveyRoundDepartment,
    User,
)
from courseware.people.departments import find_or_create  # noqa: E402
from courseware.surveys import answering  # noqa: E402

TARGET_MS = 1000
PASSWORD = "bench-password-2026"
SCHEMA = "bench_surveys"
DEPARTMENTS = [
    "销售部", "生产部", "质量部", "人力资源部", "财务部", "信息技术部", "采购部", "客服部", "物流部", "仓储部",
    "研发部", "工艺部", "设备部", "安全环保部", "行政部", "法务部", "市场部", "计划部", "售后服务部", "审计部",
]
RATED_EACH = 5
CHUNK = 10_000


def generate(employees: int, seed: int = 7) -> tuple[int, int, int, int]:
    """Fill the empty database; return (the current round's id, a head's user id and department id, HR's id)."""
    rng = random.Random(seed)
    departments = [find_or_create(name) for name in DEPARTMENTS]
    db.session.flush()
    ids = [d.id for d in departments]
    hr = User(email="hr@example.com", name="HR", department=departments[3], password_hash="!")
    hr.roles = {Role.HR}
    db.session.add(hr)
    db.session.flush()
    db.session.execute(insert(User), [
        {"email": f"e{i}@example.com", "name": f"员工{i}", "department_id": ids[i % len(ids)], "password_hash": "!"}
        for i in range(employees)
    ])
    head_id = db.session.scalar(text("SELECT id FROM \"user\" WHERE email = 'e0@example.com'"))
    departments[0].head_id = head_id
    homes = dict(db.session.execute(text("SELECT id, department_id FROM \"user\" WHERE email LIKE 'e%@example.com' ORDER BY id")).all())
    bias = {d: rng.uniform(2.2, 4.4) for d in ids}
    rounds = []
    for title, opens_on in (("上半年", date.today() - timedelta(days=180)), ("下半年", date.today() - timedelta(days=20))):
        survey = SurveyRound(title=title, opens_on=opens_on, closes_on=opens_on + timedelta(days=14), threshold=5, questions={})
        survey.scope_rows = [SurveyRoundDepartment(department_id=d) for d in ids]
        db.session.add(survey)
        db.session.flush()
        rounds.append(survey.id)
    participation, responses = [], []
    for round_id in rounds:
        for user_id, home in homes.items():
            for supplier in rng.sample([d for d in ids if d != home], RATED_EACH):
                score = lambda: min(5, max(1, round(rng.gauss(bias[supplier], 0.9))))  # noqa: E731
                participation.append({"round_id": round_id, "user_id": user_id, "department_id": supplier})
                responses.append({
                    "id": f"{rng.getrandbits(128):032x}", "round_id": round_id, "supplier_department_id": supplier,
                    "customer_department_id": home, "communication": score(), "understanding": score(),
                    "collaboration": score(), "feedback": score(), "overall": score(),
                    "comment": "交接时请提前说明变更" if rng.random() < 0.1 else None,
                })
    for rows, model in ((participation, SurveyParticipation), (responses, SurveyResponse)):
        for start in range(0, len(rows), CHUNK):
            db.session.execute(insert(model), rows[start:start + CHUNK])
    db.session.commit()
    return rounds[-1], head_id, ids[0], hr.id


def page_ms(app, path: str, user_id: int, repeats: int) -> float:
    """Median ms for the page through the app (in-process), after one warm-up request."""
    with app.app_context():
        user = db.session.get(User, user_id)
        user.set_password(PASSWORD)
        email = user.email
        db.session.commit()
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    timings = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()  # an export streams
        assert response.status_code == 200, (path, response.status_code)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings[1:])


def measure(url: str, employees: int, folder: Path, repeats: int) -> list[Row]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder),
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        round_id, head_id, head_department, hr_id = generate(employees)
        print(f"  generated in {time.perf_counter() - started:.0f} s: "
              f"{db.session.scalar(text('SELECT count(*) FROM survey_response WHERE round_id = :r'), {'r': round_id}):,} responses this round",
              flush=True)
        started = time.perf_counter()
        sealed = answering.seal_closed_rounds(date.today())
        seal_ms = (time.perf_counter() - started) * 1000
        print(f"  sealed {sealed} closed rounds ({2 * employees * RATED_EACH:,} responses rewritten) in {seal_ms:.0f} ms", flush=True)
    rows = []
    for case, path, user_id in (
        (f"round results, HR, {len(DEPARTMENTS)} departments", f"/surveys/results/{round_id}", hr_id),
        ("department page, its head", f"/surveys/results/{round_id}/departments/{head_department}", head_id),
        ("round export (CSV), HR", f"/surveys/results/{round_id}/results.csv", hr_id),
    ):
        took = page_ms(app, path, user_id, repeats)
        sql = replay_sql(app, path, user_id, repeats)
        rows.append(Row(case, took, sql, "ms", f"< {TARGET_MS} ms", took < TARGET_MS))
    with app.app_context():
        db.engine.dispose()  # the SQLite file goes with its folder, the PostgreSQL schema in main()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = [f"`python bench/surveys.py {' '.join(sys.argv[1:])}` · {args.employees:,} employees × {RATED_EACH} ratings"]
        for backend in args.backends.split(","):
            url = f"sqlite:///{folder}/bench.db" if backend == "sqlite" else fresh_postgres_schema(SCHEMA)
            if url is None:
                print(f"{backend}: skipped, not reachable at {PG_URL}")
                continue
            print(f"[{backend}] …", flush=True)
            report.append(table("SQLite" if backend == "sqlite" else "PostgreSQL", measure(url, args.employees, Path(folder), args.repeats)))
        if "postgresql" in args.backends:
            engine = create_engine(PG_URL)
            with engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            engine.dispose()
    print("\n\n".join(report))


if __name__ == "__main__":
    main()
