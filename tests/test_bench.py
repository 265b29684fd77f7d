"""The benchmark itself runs: `bench/run.py`, then `bench/peak.py` on the same small organisation.

Their figures are not judged here (a test cannot time a shared machine). What is checked is what a
broken benchmark would lose: every case measured beside its baseline on both databases, every
request answered without an error (`bench/run.py` stops at the first failed one), and the peak
hour's learners logging in and working through the course without a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LEARNERS = 1500
SESSIONS = 600  # three learners a session, two quizzes each: more open attempts than a one-second submit case uses (1,000 a second)

pytestmark = pytest.mark.slow


@pytest.fixture
def bench_env(tmp_path, postgres_url):
    """Environment for benchmark runs: their data in `tmp_path`, their PostgreSQL schemas dropped afterwards."""
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk); .ci/run installs it")
    if not Path(PYTHON).with_name("locust").exists():
        pytest.skip("Locust is not installed (pip install -e '.[bench]'); .ci/run installs it")
    schema = f"bench_smoke_{os.getpid()}"
    server = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/test")
    yield {**os.environ, "BENCH_DATA": str(tmp_path / "data"), "BENCH_SCHEMA": schema, "BENCH_POSTGRES_URL": server}
    engine = create_engine(server)
    with engine.begin() as connection:
        names = connection.scalars(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"), {"prefix": f"{schema}%"})
        for name in names.all():
            connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


def bench(script: str, *args: str, env: dict[str, str]) -> str:
    finished = subprocess.run([PYTHON, f"bench/{script}", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return finished.stdout


def table(report: str, title: str) -> dict[str, list[str]]:
    """The cells of the table under `### title` in a benchmark report, by case."""
    lines = report.split(f"### {title}\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return {cells[1].strip(): [cell.strip() for cell in cells[2:-1]] for cells in (line.split("|") for line in lines[2:])}


def number(cell: str) -> float:
    return float(cell.split()[0].replace(",", ""))


def test_the_benchmark_measures_every_case_and_a_peak_hour_on_both_databases(bench_env):
    report = bench(
        "run.py", "--learners", str(LEARNERS), "--hr-learners", f"{LEARNERS},{2 * LEARNERS}", "--sessions", str(SESSIONS),
        "--duration", "1", "--hr-repeats", "1", env=bench_env,
    )
    assert report.endswith((Path(bench_env["BENCH_DATA"]) / "results.md").read_text(encoding="utf-8") + "\n")
    for title in ("SQLite", "PostgreSQL + Redis"):
        cases = table(report, title)
        for case in ("lesson page", "trainee home", "quiz: save answers", "quiz: submit",
                     "HR dashboard, with every learning record", "HR learner matrix (page 100), with every learning record"):
            measured, baseline, ratio, target, met = cases[case][:5]
            assert number(measured) > 0 and number(baseline) > 0 and number(ratio) > 0, (case, cases[case])
            assert target.startswith(("≥", "≤")) and met in ("yes", "**NO**"), (case, cases[case])
        at_scale = table(report, f"{title}: HR at {LEARNERS:,} and {2 * LEARNERS:,} learners")
        assert number(at_scale[f"HR dashboard ({2 * LEARNERS:,} learners)"][0]) > 0
        assert at_scale[f"CSV export, {2 * LEARNERS:,} learners: peak memory growth"][4] == "yes"
    assert table(report, "PostgreSQL + Redis")["a publish reaches every worker"][4] == "yes"

    quick = {"PEAK_THINK_SCALE": "0.1", "PEAK_SETTLE_SECONDS": "2"}  # learners who read ten times as fast: a short hour
    peak = bench(
        "peak.py", "--learners", str(LEARNERS), "--steps", "6", "--step-seconds", "5", "--spawn-rate", "6",
        env={**bench_env, **quick},
    )
    for backend, title in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL + Redis")):
        assert f"### {title}" in peak
        results = json.loads((Path(bench_env["BENCH_DATA"]) / f"peak-{backend}.json").read_text(encoding="utf-8"))
        held = [r for r in results if r["phase"] == "hold"]
        assert [r["users"] for r in held] == [6], results
        assert held[0]["failures"] == 0 and held[0]["learners_used"] >= 6, held[0]
        kinds = {name.split()[1].split("/")[1] for name in held[0]["mix"]}
        assert len(kinds) > 1, held[0]["mix"]  # not only logins: the learners work through the course
