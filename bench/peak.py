"""A peak hour: the most concurrent users Courseware serves with p95 < 500 ms and no failure, per database.

    python bench/peak.py                                   # SQLite, then PostgreSQL + Redis: 25, 50, 100 … 1,600 users
    python bench/peak.py --backends sqlite --max-users 100 --step-seconds 30

Uses bench/run.py's data (generated once, cached under bench/data/) and gunicorn settings, and runs
bench/locustfile.py headless in steps of concurrent users: each step ramps up, settles, then holds
for --step-seconds and is measured alone. Prints one markdown table per database (also saved as
bench/data/peak.md, with the raw figures in bench/data/peak-<database>.json). Needs the `bench` extra.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from run import DATA, PYTHON, REDIS_URL, ROOT, SECRET_KEY, DataSet, database_url, gunicorn, prepare

BENCH = ROOT / "bench"
LOCUST = str(Path(PYTHON).with_name("locust"))
INSTANCE = str(DATA / "instance")
P95_MS = 500


def learner_logins(url: str) -> list[str]:
    """Logins of the trainees who have not finished the course, as bench/run.py picks its learners."""
    from sqlalchemy import select

    from courseware import create_app
    from courseware.extensions import db
    from courseware.models import Progress, Role, User, UserRole
    from courseware.publishing import live_course

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": INSTANCE})
    with app.test_request_context():
        course_id = live_course().course.id
        finished = select(Progress.user_id).where(Progress.activity_id == course_id, Progress.status == "completed")
        logins = db.session.scalars(
            select(User.email).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.TRAINEE.value, User.active.is_(True), User.id.not_in(finished))
            .order_by(User.id)
        ).all()
        db.engine.dispose()
    return list(logins)


def steps(args) -> list[int]:
    if args.steps:
        return [int(n) for n in args.steps.split(",")]
    found, users = [], args.start_users
    while users <= args.max_users:
        found.append(users)
        users *= 2
    return found


def run_backend(backend: str, url: str, args) -> list[dict]:
    from generate import PASSWORD

    prepare([DataSet(backend, url, args.learners)])
    logins = learner_logins(url)
    pool = DATA / f"peak-{backend}-learners.txt"
    pool.write_text("\n".join(logins) + "\n", encoding="utf-8")
    offset_file = DATA / f"peak-{backend}.offset"  # each run goes on with learners the last one did not use
    offset = int(offset_file.read_text()) if offset_file.exists() else 0
    results_file = DATA / f"peak-{backend}.json"
    results_file.unlink(missing_ok=True)
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": INSTANCE, "RATELIMIT_ENABLED": "true"}
    if backend == "postgresql":
        env["REDIS_URL"] = REDIS_URL
    load = {
        "PEAK_PASSWORD": PASSWORD, "PEAK_LEARNERS": str(pool), "PEAK_LEARNER_OFFSET": str(offset),
        "PEAK_STEPS": ",".join(map(str, steps(args))), "PEAK_STEP_SECONDS": str(args.step_seconds),
        "PEAK_SPAWN_RATE": str(args.spawn_rate), "PEAK_P95_MS": str(P95_MS), "PEAK_RESULTS": str(results_file),
        "PEAK_KEEP_GOING": "1" if args.keep_going else "",
    }
    print(f"[{backend}] {len(logins):,} learners to log in; steps of {load['PEAK_STEPS']} users", flush=True)
    shown = 0
    with gunicorn("app:app", args.workers, env) as site, open(DATA / f"peak-{backend}.log", "w") as log:
        locust = subprocess.Popen(
            [LOCUST, "-f", str(BENCH / "locustfile.py"), "--headless", "--host", site, "--only-summary",
             "-L", "WARNING"],
            cwd=ROOT, env={**os.environ, **load}, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            while locust.poll() is None:
                time.sleep(2)
                shown = show_progress(backend, results_file, shown)
        finally:
            if locust.poll() is None:
                locust.terminate()
                locust.wait(timeout=30)
        show_progress(backend, results_file, shown)
    results = json.loads(results_file.read_text()) if results_file.exists() else []
    if not results:
        sys.exit(f"[{backend}] Locust measured nothing: see {DATA / f'peak-{backend}.log'}")
    offset_file.write_text(str(offset + results[-1]["learners_used"]))
    return results


def show_progress(backend: str, results_file: Path, shown: int) -> int:
    try:
        results = json.loads(results_file.read_text())
    except (OSError, ValueError):
        return shown
    for r in results[shown:]:
        print(f"[{backend}] {r['phase']:>4} {r['users']:>5} users: {r['rps']:.1f} req/s, p95 {r['p95']} ms, "
              f"{r['failures']} failures, load {r['load_average'][0]:.2f}", flush=True)
    return len(results)


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def table(title: str, results: list[dict]) -> str:
    held = [r for r in results if r["phase"] == "hold"]
    ramps = {r["users"]: r for r in results if r["phase"] == "ramp"}
    passing = [r["users"] for r in held if r["ok"]]
    lines = [
        f"### {title}", "",
        "| Users | Requests/s | p50 ms | p95 ms | p99 ms | Failures | Slowest (p95 ms) | Ramp p95 ms | Load avg. | Locust CPU |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in held:
        slowest = "; ".join(f"{name} {ms:.0f}" for name, ms in r["slowest"])
        failures = f"**{r['failures']}**" if r["failures"] else "0"
        p95 = ms(r["p95"]) if r["ok"] or r["failures"] else f"**{ms(r['p95'])}**"
        lines.append(f"| {r['users']:,} | {r['rps']:.1f} | {ms(r['p50'])} | {p95} | {ms(r['p99'])} | {failures} | "
                     f"{slowest} | {ms(ramps.get(r['users'], {}).get('p95'))} | {r['load_average'][0]:.2f} | "
                     f"{r['locust_cpu']:.0f} % |")
    errors = [f"- {r['users']:,} users: {count} × {name}: {error}" for r in held for error, count, name in r["errors"]]
    lines += ["", "Failures:", *errors] if errors else []
    lines += ["", f"**Most concurrent users with p95 < {P95_MS} ms and no failure: {max(passing):,}**" if passing
              else f"**No step met p95 < {P95_MS} ms with no failure.**"]
    lines += ["", "Ramp p95: every request while the step's new users log in (scrypt) and start; not judged. "
              "Load average: over the last minute, at the end of the step."]
    if held:
        last = held[-1]
        total = sum(last["mix"].values())
        lines += ["", f"Requests at {last['users']:,} users, by kind: " + ", ".join(
            f"{name} {count / total:.0%}" for name, count in sorted(last["mix"].items(), key=lambda item: -item[1])
        )]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--learners", type=int, default=10_000, help="generated learners (bench/run.py's data)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--start-users", type=int, default=25)
    parser.add_argument("--max-users", type=int, default=1600, help="steps double from --start-users up to this")
    parser.add_argument("--steps", help="explicit steps instead, e.g. 50,100,150")
    parser.add_argument("--step-seconds", type=float, default=50, help="measured hold per step")
    parser.add_argument("--spawn-rate", type=float, default=8, help="users (logins) started per second while ramping")
    parser.add_argument("--keep-going", action="store_true", help="run every step, not stop after the first that fails")
    args = parser.parse_args()
    if not Path(LOCUST).exists():
        sys.exit("Locust is missing: pip install -e '.[bench]'")
    DATA.mkdir(parents=True, exist_ok=True)
    before = os.getloadavg()
    report = [f"`python bench/peak.py {' '.join(sys.argv[1:])}` · gunicorn -w {args.workers}, {os.cpu_count()} CPU cores, "
              f"{args.step_seconds:g} s per step, ramp {args.spawn_rate:g} users/s · load average before: "
              f"{before[0]:.2f} {before[1]:.2f} {before[2]:.2f}"]
    for backend in args.backends.split(","):
        url = database_url(backend)
        if url is None:
            continue
        results = run_backend(backend, url, args)
        report.append(table("SQLite" if backend == "sqlite" else "PostgreSQL + Redis", results))
    text = "\n\n".join(report) + "\n"
    (DATA / "peak.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
