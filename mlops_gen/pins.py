"""Third-party versions the generated output depends on, kept in one place.

GitHub actions are pinned to full commit SHAs resolved from each action repository's release tags; the comment
carries the tag so reviewers and zizmor can check it. Update SHA and tag together.
"""

from __future__ import annotations

ACTIONS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "docker/login-action": ("4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    # trivy-action tags were force-pushed in the March 2026 compromise: only ever pin it by SHA.
    "aquasecurity/trivy-action": ("ed142fd0673e97e23eac54620cfb913e5ce36c25", "v0.36.0"),
    "azure/aks-set-context": ("60623acbdcbbdcf799ad50a1adf8703874339f8b", "v5.0.0"),
}

TRIVY_VERSION = "v0.70.0"
KUBECTL_VERSION = "v1.34.2"
KUBELOGIN_VERSION = "v0.2.19"  # Azure/kubelogin release tag


def install_kube_tools() -> str:
    """Pinned kubectl and kubelogin into ~/.local/bin (`az aks install-cli`): clusters with Entra ID need kubelogin
    to turn the pipeline's Azure CLI login into cluster tokens (learn.microsoft.com/azure/aks/kubelogin-authentication).
    Each platform then puts ~/.local/bin on PATH its own way."""
    return ("az aks install-cli --only-show-errors \\\n"
            f"  --client-version {KUBECTL_VERSION} --install-location \"${{HOME}}/.local/bin/kubectl\" \\\n"
            f"  --kubelogin-version {KUBELOGIN_VERSION} "
            "--kubelogin-install-location \"${HOME}/.local/bin/kubelogin\"")


def uses(action: str) -> str:
    """`owner/name@<sha> # <tag>` for a `uses:` line."""
    sha, tag = ACTIONS[action]
    return f"{action}@{sha} # {tag}"
