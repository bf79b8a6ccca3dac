"""One module per CLI command; each exposes `run_<command>(...) -> int`."""
