"""Serving uploaded files to those allowed to see them (storage and checks: core/files.py)."""
