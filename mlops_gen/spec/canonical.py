"""The bytes a spec is hashed by: independent of how it was checked out, so every machine reaches one verdict.

Git on Windows checks text out with CRLF line endings, and Windows editors may add a byte order mark; neither
changes what the spec says, so neither may change the spec's hash (recorded in manifests and rendered into
files). Kept free of heavy imports: check's fast path hashes specs with it.
"""

from __future__ import annotations

BOM = b"\xef\xbb\xbf"


def canonical_spec_bytes(raw: bytes) -> bytes:
    """`raw` without a UTF-8 byte order mark, with CRLF and lone CR line endings as LF."""
    return raw.removeprefix(BOM).replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def input_bytes(spec: bytes, config: bytes) -> bytes:
    """The bytes a model's output is rendered from: its spec's, then the repository configuration's when there is
    one (its defaults and policies apply to every spec). Hashed into manifests and the spec_hash lineage tag."""
    return spec + b"\0mlops-gen.yaml\0" + config if config else spec
