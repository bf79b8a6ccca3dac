"""Output layouts: `per-model` (each model folder is the root of its own repository) and `monorepo` (a shared part
generated once, thin per-model callers where the platforms look for them)."""
