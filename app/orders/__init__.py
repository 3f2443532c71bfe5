"""Orders, addresses and delivery zones."""
