"""The double-entry ledger: the one place money is recorded.

Every money movement is a journal entry (``LedgerEntry``) whose lines sum to exactly zero,
posted once per business event (a unique ``event_key``) and never updated or deleted (a
correction is a reversing entry, ``operations.reverse``). A line's ``amount`` is signed:
**debit positive, credit negative**. An account's balance is the sum of its lines; money
the platform holds at a provider is a debit balance, money it owes or has earned a credit
balance (reported as a positive amount by ``supplier_balances``).

Chart of accounts (``AccountCode``; ``per supplier`` / ``per agent`` accounts exist once
per supplier profile / delivery agent user; ``Party`` and ``party_account`` name them):

| account | group | normal | what it holds |
|---|---|---|---|
| ``MPESA_CLEARING`` | money in | debit | money at M-Pesa (captures less refunds, payouts) |
| ``PAYSTACK_CLEARING`` | money in | debit | money at Paystack (card captures less refunds) |
| ``CASH_COLLECTED`` | money in | debit | cash on delivery handed in (or taken by staff) |
| ``BANK_CLEARING`` | money in | debit | the platform's bank: payouts made by bank transfer |
| ``AGENT_CASH_HELD`` (per agent) | money in | debit | cash an agent collected, not handed in |
| ``ORDERS_HELD`` | held | credit | customers' money for orders not yet delivered |
| ``SUPPLIER_ON_HOLD`` (per supplier) | owed | credit | delivered items' net, within the hold |
| ``SUPPLIER_AVAILABLE`` (per supplier) | owed | credit | earnings released, payable |
| ``SUPPLIER_IN_FLIGHT`` (per supplier) | owed | credit | payouts sent, not yet confirmed |
| ``AGENT_ON_HOLD`` (per agent) | owed | credit | an agent's earnings within their hold |
| ``AGENT_AVAILABLE`` (per agent) | owed | credit | an agent's earnings released, payable |
| ``AGENT_IN_FLIGHT`` (per agent) | owed | credit | an agent's payouts sent, not yet confirmed |
| ``REFUNDS_OWED`` | owed | credit | owed back to customers until the refund is confirmed |
| ``COMMISSION_REVENUE`` | revenue | credit | the platform's commission on delivered items |
| ``DELIVERY_REVENUE`` | revenue | credit | delivery fees of delivered orders |
| ``ROUNDING_REVENUE`` | revenue | credit | M-Pesa's whole-shilling round-up, once delivered |
| ``RESTOCKING_REVENUE`` | revenue | credit | restocking fees kept of CHANGED_MIND returns |
| ``RETURN_COSTS`` | revenue (contra) | debit | returns' cost to the platform (see below) |

``ORDERS_HELD`` is per order through the entries' ``order_id`` (a cash order delivered
before its cash is confirmed holds a debit until then); an on-hold line carries its
``release_at``; the ``*_IN_FLIGHT`` accounts are posted by payouts (``payout-confirmed``
entries move it out: the party's ``paid_out_total``).

Events posted (event key -> lines): ``order-paid:<order>`` Dr clearing / Cr ORDERS_HELD
(the amount received); ``order-cancelled:<order>`` Dr ORDERS_HELD / Cr REFUNDS_OWED (what
the order holds); ``refund-due:<refund>`` Dr clearing / Cr REFUNDS_OWED (money paid for an
order that could not take it); ``refund-settled:<refund>`` Dr REFUNDS_OWED / Cr clearing;
``item-delivered:<item>`` Dr ORDERS_HELD / Cr SUPPLIER_ON_HOLD (line total less commission)
and COMMISSION_REVENUE; ``order-delivered:<order>`` Dr ORDERS_HELD / Cr DELIVERY_REVENUE
(and ROUNDING_REVENUE); ``hold-released:<item>`` Dr SUPPLIER_ON_HOLD / Cr SUPPLIER_AVAILABLE
(what the item still has on hold).

Returns (``app/returns/accounting.py``; amounts from the refund policy,
``app/returns/policy.py``): ``return-approved:<return>`` Cr REFUNDS_OWED the refund; Dr the
supplier's share of the returned units on the item's SUPPLIER_ON_HOLD first (as much as the
item still has on hold, so a later ``hold-released`` releases only the rest), the remainder
on SUPPLIER_AVAILABLE (which may go negative: later sales make it up before a payout);
Dr COMMISSION_REVENUE the commission given back; Dr RETURN_COSTS what the platform bears
(DAMAGED_IN_TRANSIT, a refunded delivery fee); Cr RESTOCKING_REVENUE the restocking fee.
Per reason: supplier fault = Dr supplier net + commission (+ RETURN_COSTS delivery fee);
DAMAGED_IN_TRANSIT = Dr RETURN_COSTS; CHANGED_MIND = Dr supplier net + commission, Cr
RESTOCKING_REVENUE. The refund's ``refund-settled`` then moves REFUNDS_OWED out.
Payouts (``app/payouts``, one key per B2C attempt ``<kind>:<disbursement id>``, or
``<kind>:manual-<payout id>`` for one recorded by hand) for a supplier or an agent:
``payout-sent`` Dr *_AVAILABLE / Cr *_IN_FLIGHT; ``payout-confirmed`` Dr *_IN_FLIGHT /
Cr MPESA_CLEARING (or the manual method's clearing: BANK_CLEARING, CASH_COLLECTED);
``payout-failed`` Dr *_IN_FLIGHT / Cr *_AVAILABLE.
Delivery (``app/dispatch``): ``order-delivered`` also credits the delivering agent's
AGENT_ON_HOLD with their share of the fee (``agent_fee``: AGENT_FEE_RATE or the agent's
``delivery_fee_percentage``; the rest is DELIVERY_REVENUE);
``agent-earning-released:<order-delivered key>`` Dr AGENT_ON_HOLD / Cr AGENT_AVAILABLE once
the customer confirms (or the confirmation window closes, or a dispute is resolved as
delivered); cash collected by an agent is ``order-paid`` Dr that agent's AGENT_CASH_HELD;
``cod-verified:<order>`` Dr CASH_COLLECTED / Cr AGENT_CASH_HELD when it is handed in. A
disputed order's supplier holds wait (``OrderHold``); a delivery found not made is reversed
(``reversal:<key>``) and a later delivery posts under ``<key>:r2``, ``:r3``...

The books balance when ``money in = held + revenue + owed + paid out``: the money-in
accounts' debits (every shilling received) equal what is held, earned and owed, plus
their credits (every shilling that left: refunds and payouts). ``flask ledger check``
proves it (``app.ledger.cli.check_books``).
"""
