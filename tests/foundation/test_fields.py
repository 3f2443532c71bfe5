"""Money, phone and timestamp conventions: parsing, serialising, storing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import marshmallow as ma
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from app.db import MoneyType, UTCDateTime
from app.extensions import db
from app.fields import Money, Phone, Timestamp
from app.money import cents, format_money, parse_money, whole_shillings
from app.phone import normalize_phone


class PriceSchema(ma.Schema):
    price = Money()
    adjustment = Money(allow_negative=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1499, "1499.00"),
        (1499.5, "1499.50"),
        (0.1, "0.10"),
        (19.99, "19.99"),
        ("1499", "1499.00"),
        ("1499.9", "1499.90"),
        (" 12.30 ", "12.30"),
        ("0", "0.00"),
        (Decimal("7.25"), "7.25"),
        (9999999999.99, "9999999999.99"),
        ("1e3", "1000.00"),
    ],
)
def test_money_accepts_numbers_and_numeric_strings(raw, expected):
    assert PriceSchema().load({"price": raw}) == {"price": Decimal(expected)}
    assert PriceSchema().dump({"price": Decimal(expected)}) == {"price": expected}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (10.005, "Amount cannot have more than two decimal places."),
        ("10.005", "Amount cannot have more than two decimal places."),
        (0.1 + 0.2, "Amount cannot have more than two decimal places."),
        (float("nan"), "Amount must be a finite number."),
        ("NaN", "Amount must be a finite number."),
        (float("inf"), "Amount must be a finite number."),
        ("-Infinity", "Amount must be a finite number."),
        (-1, "Amount cannot be negative."),
        ("-0.01", "Amount cannot be negative."),
        (True, "Not a valid amount."),
        (False, "Not a valid amount."),
        ("", "Not a valid amount."),
        ("12abc", "Not a valid amount."),
        ([1], "Not a valid amount."),
        ({"amount": 1}, "Not a valid amount."),
        (10_000_000_000, "Amount is too large."),
        ("1e999999", "Amount is too large."),
        (10**40, "Amount is too large."),
    ],
)
def test_money_rejects_what_is_not_exact_cents(raw, message):
    with pytest.raises(ma.ValidationError) as error:
        PriceSchema().load({"price": raw})
    assert error.value.messages == {"price": [message]}


def test_money_allows_negatives_only_where_asked():
    assert PriceSchema().load({"adjustment": "-250.50"}) == {"adjustment": Decimal("-250.50")}
    assert PriceSchema().dump({"adjustment": Decimal("-250.5")}) == {"adjustment": "-250.50"}


def test_money_helpers():
    assert format_money(Decimal("5")) == "5.00"
    assert parse_money(12) == Decimal("12.00")
    assert whole_shillings(Decimal("100.01")) == 101 and whole_shillings(Decimal("100")) == 100
    assert cents(Decimal("1499.99")) == 149999


@pytest.fixture
def money_table():
    table = Table(
        "probe_money",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("amount", MoneyType()),
        Column("at", UTCDateTime()),
    )
    table.create(db.engine)
    yield table
    db.session.rollback()
    table.drop(db.engine)


@pytest.mark.parametrize(
    "stored",
    ["0.00", "0.01", "0.10", "19.99", "1499.50", "-250.75", "9999999999.99", "1234567.89"],
)
def test_money_type_round_trips_exactly(money_table, stored):
    db.session.execute(insert(money_table).values(amount=Decimal(stored)))
    db.session.commit()
    loaded = db.session.scalar(select(money_table.c.amount))
    assert isinstance(loaded, Decimal)
    assert str(loaded) == stored


def test_money_type_sums_and_nulls(money_table):
    db.session.execute(insert(money_table), [{"amount": Decimal("0.10")}] * 3 + [{"amount": None}])
    db.session.commit()
    values = db.session.scalars(select(money_table.c.amount).order_by(money_table.c.id)).all()
    assert values == [Decimal("0.10")] * 3 + [None]
    assert sum(v for v in values if v is not None) == Decimal("0.30")


def test_utc_datetime_round_trips_as_aware_utc(money_table):
    nairobi = timezone(timedelta(hours=3))
    db.session.execute(
        insert(money_table).values(at=datetime(2026, 11, 22, 17, 3, 11, tzinfo=nairobi))
    )
    db.session.commit()
    loaded = db.session.scalar(select(money_table.c.at))
    assert loaded == datetime(2026, 11, 22, 14, 3, 11, tzinfo=UTC)
    assert loaded.utcoffset() == timedelta(0)


def test_utc_datetime_refuses_naive_values(money_table):
    with pytest.raises(Exception, match="naive datetime"):
        db.session.execute(insert(money_table).values(at=datetime(2026, 1, 1)))
    db.session.rollback()


# --- phones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0712345678", "254712345678"),
        ("0112345678", "254112345678"),
        ("+254712345678", "254712345678"),
        ("254712345678", "254712345678"),
        ("+254112345678", "254112345678"),
        ("254112345678", "254112345678"),
        ("0712 345 678", "254712345678"),
        (" +254-712-345-678 ", "254712345678"),
        ("(0712) 345.678", "254712345678"),
    ],
)
def test_phone_normalisation(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0812345678",  # not a mobile prefix
        "071234567",  # too short
        "07123456789",  # too long
        "712345678",  # no prefix
        "+255712345678",  # Tanzania
        "2540712345678",
        "+2547123456",
        "07123abc78",
        "٠٧١٢٣٤٥٦٧٨",  # Arabic-Indic digits are digits to \d, not to us
        None,
        712345678,
    ],
)
def test_phone_rejects_anything_else(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


class ContactSchema(ma.Schema):
    phone = Phone()
    at = Timestamp()


def test_phone_field_normalises_and_reports_errors():
    assert ContactSchema().load({"phone": "0712345678"}) == {"phone": "254712345678"}
    with pytest.raises(ma.ValidationError) as error:
        ContactSchema().load({"phone": "12345"})
    assert list(error.value.messages) == ["phone"]
    with pytest.raises(ma.ValidationError):
        ContactSchema().load({"phone": 712345678})


# --- timestamps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 22, 14, 3, 11, 987654, tzinfo=UTC), "2026-11-22T14:03:11Z"),
        (
            datetime(2026, 11, 22, 17, 3, 11, tzinfo=timezone(timedelta(hours=3))),
            "2026-11-22T14:03:11Z",
        ),
        (datetime(2026, 11, 22, 14, 3, 11), "2026-11-22T14:03:11Z"),  # naive = UTC
        (None, None),
    ],
)
def test_timestamp_serialises_utc_with_z(value, expected):
    assert ContactSchema().dump({"at": value}) == {"at": expected}


@pytest.mark.parametrize(
    "raw", ["2026-11-22T14:03:11Z", "2026-11-22T17:03:11+03:00", "2026-11-22T14:03:11"]
)
def test_timestamp_loads_as_aware_utc(raw):
    loaded = ContactSchema().load({"at": raw})["at"]
    assert loaded == datetime(2026, 11, 22, 14, 3, 11, tzinfo=UTC)
    assert loaded.tzinfo is not None and loaded.utcoffset() == timedelta(0)
