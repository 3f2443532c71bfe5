"""The supplier portal (``/api/supplier``): an approved supplier's own statement and balances."""
