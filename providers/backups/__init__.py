"""Backups: sources of backups, retention, RPO and restore tests (issue 7)."""
