"""mlops-gen: one declarative spec per ML model, rendered into CI/CD pipelines and their stage scripts.

Kept import-free on purpose: `mlops-gen --version` must not pay for pydantic, jinja2 or jsonschema.
"""

__version__ = "0.1.0"
