"""Admin figures: rollups kept per Nairobi day, week and month, and the dashboard,
analytics, financial and reconciliation reports read from them."""
