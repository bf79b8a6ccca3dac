"""Putting rendered trees on disk: manifest-aware, atomic, only-changed, owned files only."""
