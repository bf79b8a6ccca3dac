"""The scoring app and its HTTP client (standard library only)."""
