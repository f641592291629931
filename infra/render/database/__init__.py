"""Postgres on CloudNativePG: the objects it is made of and its backups, as pure data."""
