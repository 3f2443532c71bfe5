"""Returns: the customer asks, the supplier answers, an admin decides; money goes back once."""
