"""Delivery agents' accounts beside suppliers': keys, balances, the books."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.auth.models import UserRole
from app.ledger.models import AccountCode as A
from app.ledger.models import Party, PartyRole, account_key, party_account
from app.ledger.operations import (
    Line,
    agent_balances,
    balance,
    party_line,
    post,
    supplier_balances,
)
from tests.factories.auth import SupplierProfileFactory, UserFactory


def test_account_keys_name_the_owner():
    assert account_key(A.AGENT_AVAILABLE, agent_id=7) == "AGENT_AVAILABLE:a7"
    assert account_key(A.SUPPLIER_AVAILABLE, 7) == "SUPPLIER_AVAILABLE:7"
    assert party_account(Party.AGENT, PartyRole.IN_FLIGHT) == A.AGENT_IN_FLIGHT
    with pytest.raises(ValueError):
        account_key(A.AGENT_AVAILABLE)
    with pytest.raises(ValueError):
        account_key(A.SUPPLIER_AVAILABLE, 1, agent_id=1)
    with pytest.raises(ValueError):
        account_key(A.ORDERS_HELD, agent_id=1)


def test_agent_and_supplier_balances_are_apart(db, assert_books_balance):
    agent = UserFactory(role=UserRole.DELIVERY_AGENT)
    supplier = SupplierProfileFactory()
    post(
        "test:earned",
        "test",
        [
            Line(A.MPESA_CLEARING, Decimal("500.00")),
            party_line(Party.AGENT, agent.id, PartyRole.AVAILABLE, Decimal("-200.00")),
            Line(A.AGENT_ON_HOLD, Decimal("-100.00"), agent_id=agent.id),
            party_line(Party.SUPPLIER, supplier.id, PartyRole.AVAILABLE, Decimal("-200.00")),
        ],
    )
    post(
        "test:paid",
        "payout-confirmed",
        [
            party_line(Party.AGENT, agent.id, PartyRole.AVAILABLE, Decimal("50.00")),
            party_line(Party.AGENT, agent.id, PartyRole.IN_FLIGHT, Decimal("-50.00")),
        ],
    )
    db.session.commit()
    mine = agent_balances(agent.id)
    assert (mine.on_hold, mine.available, mine.in_flight) == (
        Decimal("100.00"),
        Decimal("150.00"),
        Decimal("50.00"),
    )
    assert supplier_balances(supplier.id).available == Decimal("200.00")
    assert balance(A.AGENT_AVAILABLE, agent_id=agent.id) == Decimal("-150.00")
    report = assert_books_balance()
    assert report.owed == Decimal("500.00")
