"""Rendering: one jinja environment, the plan of output files, the context, and verification of the result."""
