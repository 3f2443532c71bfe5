"""Delivery: zones and their fees (agents, assignment and proof of delivery next)."""
