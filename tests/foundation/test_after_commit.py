"""``after_commit``: actions run at the real commit, savepoints neither fire nor drop them."""

from decimal import Decimal

import pytest

from app.db import after_commit
from app.extensions import db
from app.services import mpesa_gateway


@pytest.fixture
def ran(app):
    with app.app_context():
        yield []


def test_an_action_runs_once_the_transaction_commits(ran):
    after_commit(db.session(), lambda: ran.append("a"))
    assert ran == []
    db.session.commit()
    assert ran == ["a"]
    db.session.commit()
    assert ran == ["a"]


def test_a_rolled_back_transaction_runs_nothing(ran):
    after_commit(db.session(), lambda: ran.append("a"))
    db.session.rollback()
    db.session.commit()
    assert ran == []


def test_a_released_savepoint_waits_for_the_real_commit(ran):
    with db.session.begin_nested():
        after_commit(db.session(), lambda: ran.append("inner"))
    assert ran == []
    db.session.commit()
    assert ran == ["inner"]


def test_a_rolled_back_savepoint_drops_only_its_own_actions(ran):
    after_commit(db.session(), lambda: ran.append("outer"))
    savepoint = db.session.begin_nested()
    after_commit(db.session(), lambda: ran.append("inner"))
    savepoint.rollback()
    with db.session.begin_nested():
        after_commit(db.session(), lambda: ran.append("kept"))
    db.session.commit()
    assert ran == ["outer", "kept"]


def test_rolling_back_a_savepoint_drops_the_savepoints_still_open_inside_it(ran):
    outer = db.session.begin_nested()
    db.session.begin_nested()
    after_commit(db.session(), lambda: ran.append("innermost"))
    outer.rollback()
    db.session.commit()
    assert ran == []


def test_the_mpesa_simulator_calls_back_only_after_the_real_commit(app, monkeypatch):
    delivered = []
    with app.test_request_context():
        gateway = mpesa_gateway()
        monkeypatch.setattr(gateway, "_deliver", lambda *args: delivered.append(args))

        def push(phone):
            gateway.stk_push(phone=phone, amount=Decimal("10"), reference="R", description="d")

        with db.session.begin_nested():  # released: the request's transaction goes on
            push("254712345671")
        assert delivered == []
        savepoint = db.session.begin_nested()
        push("254712345672")
        savepoint.rollback()  # its push never reached Safaricom's books: no callback
        db.session.commit()
    assert len(delivered) == 1
    assert "254712345671" in str(delivered[0])
