"""Orders: addresses, checkout, the order state machine, status changes and cancellation."""
