"""factory_boy factories, one module per domain; traits for states."""
