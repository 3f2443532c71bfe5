"""Payout numbers: the M-Pesa number a supplier's or a delivery agent's payouts go to.

The first number a party sets takes effect at once. A later change is a request
(``PayoutNumberRequest``) that takes effect only when an admin (``ADMIN`` or
``FINANCE_ADMIN``) approves it; until then payouts keep going to the old number. This is
the defence against a stolen account redirecting payouts. One open request per party: a
new request *replaces* the open one (which becomes ``SUPERSEDED``). The party is told
(in the app and by email) at every step: set, requested, replaced, cancelled, approved,
rejected. Every step is audited.

Parties (the ledger's ``Party``) are a supplier (``SUPPLIER``, by supplier profile id)
or a delivery agent (``AGENT``, by the agent's user id). This package reads the two profiles
(``app.auth.models``) and nothing of the supplier or delivery domains.
"""
