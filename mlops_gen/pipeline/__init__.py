"""The platform-neutral pipeline: what runs, in which order, on which condition. Built once per spec by
`build_pipeline`; the platform planners, run-local and the docs diagram only translate it."""

from mlops_gen.pipeline.build import build_pipeline
from mlops_gen.pipeline.model import Phase, Pipeline, Ref, Release, Step, When

__all__ = ["Phase", "Pipeline", "Ref", "Release", "Step", "When", "build_pipeline"]
