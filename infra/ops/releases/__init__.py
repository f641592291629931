"""Releases of a stack: its update history, rollback targets, digest checks and smoke checks."""
