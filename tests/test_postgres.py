"""On PostgreSQL a request's transaction begins at its first write (`courseware/postgres.py`): what it
writes is still all or nothing, what it locks stays locked until it ends, and a connection the server
has closed is replaced before a page uses it."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from courseware.extensions import db
from courseware.models import Department, User


@pytest.fixture
def database_url(postgres_url):
    return postgres_url


@pytest.fixture
def other_connection(postgres_url):
    """A second client of the same database, as another worker would be."""
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _departments_named(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Department).where(Department.name == name))


def test_writes_rolled_back_are_gone_and_reads_before_them_see_the_data(app):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Department))  # a read first, outside any transaction
        db.session.add(Department(name="临时部门"))
        db.session.flush()
        assert _departments_named("临时部门") == 1
        db.session.rollback()
        assert _departments_named("临时部门") == 0
        assert db.session.scalar(select(func.count()).select_from(Department)) == before


def test_a_row_read_for_update_stays_locked_until_the_request_ends(app, make_user, other_connection):
    user_id, _email = make_user()
    locking = text('SELECT id FROM "user" WHERE id = :id FOR UPDATE NOWAIT')
    with app.app_context():
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
        with pytest.raises(OperationalError, match="lock"):
            other_connection.execute(locking, {"id": user_id})
        db.session.commit()
    assert other_connection.execute(locking, {"id": user_id}).scalar() == user_id


def test_pages_work_after_the_server_closed_the_pooled_connection(app, client, make_user, login, published, other_connection):
    user_id, email = make_user()
    login(email)
    assert client.get("/").status_code == 200
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.commit()
    other_connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    for _try in range(1000):  # pg_terminate_backend only signals: wait until the backend has exited
        if other_connection.execute(gone, {"pid": pid}).scalar() == 0:
            break
        other_connection.execute(text("SELECT pg_sleep(0.01)"))
    else:
        pytest.fail("the terminated backend never exited")

    page = client.get("/")
    assert page.status_code == 200
    with app.app_context():
        name = db.session.scalar(select(User.name).where(User.id == user_id))
    assert name in page.get_data(as_text=True)
