"""The spec: loading YAML with positions, the pydantic model, and the semantic rules."""
