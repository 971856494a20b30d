"""Logs, heartbeats, readiness checks and task statistics: what every process reports about itself."""
