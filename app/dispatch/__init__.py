"""Dispatch: getting orders to customers by people, with proof, and tracking their cash.

Delivery agents and companies, the zones agents serve, assignment (by hand, automatic,
or offered to agents), proof of delivery (a six-digit code), cash on delivery, the
customer's confirmation or dispute. Zones and their fees stay in ``app.delivery`` (a
lower domain: checkout prices delivery with them); this domain builds on orders,
payments, the ledger and notifications, and nothing below it imports it.
"""
