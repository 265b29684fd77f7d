"""Time inviting a company's whole staff at once, against the 2-second target of issue J.

    python bench/invitations.py                  # 5,000 people, SQLite then PostgreSQL (if reachable)
    python bench/invitations.py --people 20000

Measures what HR's "invite everyone" does: load the people not yet signed in, give each a link,
queue each e-mail in the outbox, commit. The baseline beside it is inserting the same number of
bare rows into the same database, so the ratio is what the invitation adds to the raw writes.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import PG_URL, fresh_postgres_schema  # noqa: E402 - bench/run.py, beside this file

from courseware import create_app  # noqa: E402
from courseware.extensions import db  # noqa: E402
from courseware.models import OutboxMessage, Role, User  # noqa: E402
from courseware.people import invitations  # noqa: E402
from courseware.people.departments import find_or_create  # noqa: E402

TARGET_SECONDS = 2.0
SCHEMA = "bench_invitations"


def measure(url: str, people: int, folder: Path) -> tuple[float, float]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder), "TESTING": True})
    with app.app_context():
        db.drop_all()
        db.create_all()
        department = find_or_create("销售部")
        hr = User(email="hr@example.com", name="HR", department=department, password_hash="set$elsewhere")
        hr.roles = {Role.HR}
        db.session.add(hr)
        staff = [{"email": f"p{i}@example.com", "name": f"员工{i}", "department_id": department.id, "password_hash": "!"}
                 for i in range(people)]
        db.session.execute(insert(User), staff)
        db.session.commit()

        start = time.perf_counter()
        db.session.execute(insert(OutboxMessage), [{"kind": "mail", "payload": {"to": row["email"]}} for row in staff])
        db.session.commit()
        baseline = time.perf_counter() - start

        with app.test_request_context():
            start = time.perf_counter()
            issued = invitations.invite(db.session.scalars(invitations.pending(None)).all(), hr, mail=True)
            db.session.commit()
            took = time.perf_counter() - start
        assert len(issued) == people
        db.drop_all()
    return took, baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        backends = {"sqlite": f"sqlite:///{folder}/bench.db", "postgresql": fresh_postgres_schema(SCHEMA)}
        print(f"| Database | Invite {args.people:,} people | Baseline: insert as many bare rows | Ratio | Target |")
        print("|---|---|---|---|---|")
        for name, url in backends.items():
            if url is None:
                print(f"| {name} | skipped: not reachable at {PG_URL} | | | |")
                continue
            took, baseline = measure(url, args.people, Path(folder))
            verdict = "met" if took < TARGET_SECONDS else "NOT met"
            print(f"| {name} | {took:.2f} s | {baseline:.2f} s | {took / baseline:.1f}× | < {TARGET_SECONDS:.0f} s: {verdict} |")
        if backends["postgresql"]:
            engine = create_engine(PG_URL)
            with engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            engine.dispose()


if __name__ == "__main__":
    main()
