"""Constrained string types of the spec, each with a clear error message and a JSON Schema pattern.

Names that reach pipelines, shells, Kubernetes or Azure are restricted to the characters those systems accept, so
that a value is either rejected here with a precise message or is inert wherever it lands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from mlops_gen.spec.secrets import credential_message, secret_like

# Pipeline expression syntax of GitHub (${{ }}) and Azure DevOps ($( ), $[ ], ${{ }}): never allowed in free text.
_EXPRESSION = re.compile(r"\$\{\{|\$\(|\$\[")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# Log lines are commands on both platforms: Azure DevOps acts on '##vso[...]' anywhere in a line, GitHub on
# '::name ...::' at its start. A value a script prints must not set variables, masks or outputs.
_LOG_COMMAND = re.compile(r"##vso\[|##\[|^\s*::|::[A-Za-z-]+(\s[^:]*)?::", re.IGNORECASE)
FREE_TEXT_MAX = 500


def _checked(pattern: str, what: str, *, min_length: int = 1, max_length: int = 255,
             extra: Callable[[str], None] | None = None, first: Callable[[str], None] | None = None) -> Any:
    """`first` runs before the length and pattern checks: it names a specific problem they would only hint at."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if first is not None:
            first(value)
        if not min_length <= len(value) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters long (got {len(value)}): {what}")
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        if extra is not None:
            extra(value)
        return value

    # JSON Schema patterns match anywhere in the string (ECMA-262 search): anchored, as fullmatch checks above.
    schema = {"type": "string", "pattern": f"^(?:{pattern})$", "minLength": min_length, "maxLength": max_length}
    return Annotated[str, AfterValidator(check), WithJsonSchema(schema)]


def check_free_text(value: str) -> str:
    if len(value) > FREE_TEXT_MAX:
        raise ValueError(f"must be at most {FREE_TEXT_MAX} characters long (got {len(value)})")
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters or line breaks")
    if any(unicodedata.category(c) == "Cf" for c in value):
        raise ValueError("must not contain invisible formatting characters (zero-width or bidirectional "
                         "overrides hide what the text says)")
    if _LOG_COMMAND.search(value):
        raise ValueError("must not contain pipeline logging commands ('##vso[', '##[' or '::command::')")
    if _EXPRESSION.search(value):
        raise ValueError("must not contain pipeline expression syntax ('${{', '$(' or '$[')")
    _no_secret(value)
    return value


def _no_secret(value: str) -> None:
    reason = secret_like(value)
    if reason:
        raise ValueError(credential_message(reason))


def _no_dot_segments(value: str) -> None:
    if value.startswith("/"):
        raise ValueError(f"{value!r} is an absolute path; give a path relative to the model folder")
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError(f"{value!r} must be a relative path inside the model folder, without '.' or '..' parts")
    blank = next((char for char in value if char.isspace()), None)
    if blank is not None and re.fullmatch(r"[A-Za-z0-9_./-]*", "".join(value.split())):  # else: the pattern says
        what = "a space" if blank == " " else f"a whitespace character (U+{ord(blank):04X})"
        raise ValueError(f"{value!r} contains {what}; paths in pipelines must not: rename the file")


FreeText = Annotated[str, AfterValidator(check_free_text),
                     WithJsonSchema({"type": "string", "maxLength": FREE_TEXT_MAX})]

# Azure ML online endpoint names: 3-32 characters, a letter first; DNS-1123 so it also serves k8s and images.
ModelName = _checked(r"[a-z]([a-z0-9-]*[a-z0-9])?", "a lowercase DNS-1123 label starting with a letter "
                     "(a-z, 0-9, '-'; not ending with '-')", min_length=3, max_length=32)
EnvironmentName = _checked(r"[a-z]([a-z0-9-]*[a-z0-9])?", "a lowercase label like 'staging' or 'prod-eu'",
                           max_length=24)
EndpointName = _checked(r"[a-z]([a-z0-9-]*[a-z0-9])?", "a valid Azure ML endpoint name", min_length=3,
                        max_length=32)
K8sName = _checked(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", "a Kubernetes DNS-1123 label", max_length=63)
# Gateway API hostnames (gateway.networking.k8s.io/v1 HTTPRoute spec.hostnames): a DNS name, optionally a
# wildcard label first; no IP addresses, no port.
Hostname = _checked(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                    "a host name like 'churn.example.com' or '*.example.com'", min_length=1, max_length=253)
ResourceGroup = _checked(r"[A-Za-z0-9_().-]*[A-Za-z0-9_()-]", "an Azure resource group name", max_length=90)
WorkspaceName = _checked(r"[A-Za-z0-9][A-Za-z0-9_-]*", "an Azure ML workspace name", min_length=3, max_length=33)
ServiceConnection = _checked(r"[A-Za-z0-9][A-Za-z0-9_.-]*", "an Azure DevOps service connection name "
                             "(letters, digits, '.', '_', '-')", max_length=64)
RegistryName = _checked(r"[A-Za-z0-9]+", "an Azure Container Registry name (letters and digits)",
                        min_length=5, max_length=50)
Location = _checked(r"[a-z0-9]+", "an Azure region like 'westeurope'", min_length=2, max_length=40)
SubscriptionId = _checked(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                          "a subscription id (GUID)", min_length=36, max_length=36)
ComputeName = _checked(r"[A-Za-z][A-Za-z0-9-]*", "an Azure ML compute name", min_length=2, max_length=32)
AssetName = _checked(r"[A-Za-z0-9][A-Za-z0-9_.-]*", "an Azure ML asset name (letters, digits, '_', '.', '-')",
                     max_length=255)
AssetVersion = _checked(r"latest|[A-Za-z0-9][A-Za-z0-9_.-]*", "an asset version or 'latest'", max_length=64)
ColumnName = _checked(r"[A-Za-z_][A-Za-z0-9_]*", "a column name (letters, digits, '_')", max_length=64)
RelativePath = _checked(r"[A-Za-z0-9_][A-Za-z0-9_./-]*", "a relative path (letters, digits, '_', '-', '.', '/')",
                        max_length=200, first=_no_dot_segments)
# A folder named relative to the repository configuration: may climb out of its folder (`../generated`), never
# absolute.
OutputFolder = _checked(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*", "a folder relative to mlops-gen.yaml (letters, digits, "
                        "'_', '-', '.', '/'; not absolute)", max_length=200)
BranchName = _checked(r"[A-Za-z0-9*][A-Za-z0-9._/*-]*", "a branch name or glob", max_length=200)
PathFilter = _checked(r"[A-Za-z0-9_.*][A-Za-z0-9_./*-]*", "a path filter like 'src/**'", max_length=200)
TagKey = _checked(r"[A-Za-z][A-Za-z0-9_.-]*", "a tag key (letters, digits, '_', '.', '-')", max_length=64)
TagValue = _checked(r"[A-Za-z0-9 _.:/@+-]*", "a tag value (letters, digits, space and _.:/@+-)",
                    min_length=0, max_length=128, extra=_no_secret)
AliasName = _checked(r"[A-Za-z][A-Za-z0-9_-]*", "an MLflow alias (letters, digits, '_', '-')", max_length=64)
ClusterName = _checked(r"[A-Za-z0-9][A-Za-z0-9_-]*", "an AKS cluster name", max_length=63)
InstanceType = _checked(r"[A-Za-z0-9_]+", "an Azure VM size like 'Standard_DS3_v2'", max_length=64)
Email = _checked(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", "an e-mail address", max_length=254)
Owner = _checked(r"@?[A-Za-z0-9][A-Za-z0-9._-]*|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                 "a user handle or an e-mail address", max_length=254)
def _not_a_secret_value(value: str) -> None:
    if "://" in value or value.startswith("www."):
        raise ValueError("is a secret's value (a URL), not its name: store the URL as a secret "
                         "variable (Azure DevOps) and a secret (GitHub), and name that secret here, "
                         "e.g. NOTIFY_WEBHOOK_URL")


SecretName = _checked(r"[A-Za-z_][A-Za-z0-9_]*", "a secret or variable name (letters, digits, '_')",
                      max_length=64, first=_not_a_secret_value)
Quantity = _checked(r"[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?", "a Kubernetes quantity like '500m' or '1Gi'",
                    max_length=16)


_QUANTITY_FACTORS = {"m": 1e-3, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}


def quantity_amount(value: str) -> float:
    """A Kubernetes quantity (Quantity) in base units: cores or bytes ('250m' -> 0.25, '1Gi' -> 1073741824)."""
    for suffix, factor in _QUANTITY_FACTORS.items():
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


_ASCII_NUMBER = re.compile(r"[0-9]{1,4}")


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts full-width and superscript digits, no scheduler reads them."""
    return _ASCII_NUMBER.fullmatch(text) is not None


def cron_problem(expression: str) -> str | None:
    """Why a five-field cron expression is invalid, or None. Numbers only: Azure DevOps accepts no names."""
    stray = next((char for char in expression if char.isspace() and char not in " \t"), None)
    if stray is not None:
        return (f"{expression!r}: separate the fields with plain spaces "
                f"(found U+{ord(stray):04X})")
    fields = expression.split()
    if len(fields) != 5:
        return f"{expression!r} must have five fields (minute hour day-of-month month day-of-week)"
    bounds = [("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12),
              ("day-of-week", 0, 6)]
    for text, (name, low, high) in zip(fields, bounds, strict=True):
        for item in text.split(","):
            body, _, step = item.partition("/")
            if step and (not _is_number(step) or int(step) == 0):
                return f"{name} field {text!r}: step must be a positive number (ASCII digits 0-9)"
            if body == "*":
                continue
            start, _, end = body.partition("-")
            for number in (start, end) if end else (start,):
                if not _is_number(number) or not low <= int(number) <= high:
                    return f"{name} field {text!r}: values must be numbers from {low} to {high} (ASCII digits 0-9)"
            if end and int(start) > int(end):
                return f"{name} field {text!r}: range start is after its end"
    return None


def _check_cron(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Cron = Annotated[str, AfterValidator(_check_cron),
                 WithJsonSchema({"type": "string", "pattern": r"^[0-9*,/-]+([ \t]+[0-9*,/-]+){4}$",
                                 "examples": ["0 3 * * 1"]})]
