"""Planner for the docker target: the serving image's Dockerfile, .dockerignore and pinned requirements."""

from __future__ import annotations

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


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    extra = {"base_image": PYTHON_IMAGES[spec.python_version], "port": SERVING_PORT, "uid": SERVING_UID}
    return [
        OutputFile("Dockerfile", "docker/Dockerfile", TARGET, extra=extra),
        OutputFile(".dockerignore", "docker/dockerignore", TARGET),
        OutputFile("requirements-serving.txt", "docker/requirements-serving.txt", TARGET),
    ]
