"""Planner for the docker target: the serving image's Dockerfile, .dockerignore and pinned requirements."""

from __future__ import annotations

from dataclasses import replace

from mlops_gen.layout.paths import Monorepo
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec

TARGET = "docker"
# Official python images by full version tag on Debian 13 (trixie), per spec.python_version. Digests cannot be
# resolved offline; the Dockerfile says how to add one.
PYTHON_IMAGES = {
    "3.10": "python:3.10.19-slim-trixie",
    "3.11": "python:3.11.14-slim-trixie",
    "3.12": "python:3.12.12-slim-trixie",
    "3.13": "python:3.13.9-slim-trixie",
}
SERVING_PORT = 8080
SERVING_UID = 10001  # numeric, so runAsNonRoot can check it; matches the k8s securityContext


# The shared Dockerfile's (monorepo layout) build argument naming the base image: each model's pipeline passes
# base_image(spec) as it.
BASE_IMAGE_ARG = "PYTHON_IMAGE"
# Where the pipeline exports the model version before the build: model/ of the build context (the model folder in
# the per-model layout, the shared folder in the monorepo layout), as the Dockerfile's COPY model/ expects.
MODEL_EXPORT = "model"


def base_image(spec: ProjectSpec) -> str:
    return PYTHON_IMAGES[spec.python_version]


def _files(base: str | None) -> list[OutputFile]:
    extra = {"base_image": base, "base_image_arg": BASE_IMAGE_ARG, "example_image": PYTHON_IMAGES[max(PYTHON_IMAGES)],
             "port": SERVING_PORT, "uid": SERVING_UID}
    return [
        OutputFile("Dockerfile", "docker/Dockerfile", TARGET, extra=extra),
        OutputFile(".dockerignore", "docker/dockerignore", TARGET),
        OutputFile("requirements-serving.txt", "docker/requirements-serving.txt", TARGET),
    ]


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    return _files(base_image(spec))


def monorepo_shared(repo: Monorepo) -> list[OutputFile]:
    """One image recipe for every model: the build context is the shared folder (the pipeline exports the model
    version into its model/ first) and the base image is the build argument BASE_IMAGE_ARG."""
    return [replace(file, path=repo.shared(file.path)) for file in _files(None)]
