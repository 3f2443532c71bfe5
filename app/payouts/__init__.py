"""Payouts: what the platform owes a supplier or a delivery agent, paid by M-Pesa B2C
(``app/disbursements``) or recorded as paid by hand; scheduled runs per party."""
