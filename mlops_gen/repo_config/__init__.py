"""The repository configuration `mlops-gen.yaml`: layout, output folder, defaults every spec inherits, policies."""
