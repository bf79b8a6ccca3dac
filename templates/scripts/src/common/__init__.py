"""Helpers shared by the stage scripts: backend selection, MLflow registry access, files, JUnit reports, tables.

Every module imports only the standard library at the top, so each script's `--help` works in a bare Python.
"""
