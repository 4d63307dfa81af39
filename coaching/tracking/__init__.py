"""Tracking: progress over time, the dashboards' reads, coaching impact and lead summaries."""
