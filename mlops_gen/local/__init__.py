"""`mlops-gen run-local`: a cached virtual environment and the training pipeline's stages run on this machine."""
