"""Embedded backends for `--demo`: same provider code, local endpoints."""
