"""The one way a name (a model, preset, dataset or backend) becomes part of a path.

:func:`safe_name` maps any text to a name built only from ``A-Z a-z 0-9 . _ -`` that does not
start with a dot and is at most ``limit`` characters long; a name it has to change gets a hash
of the original as suffix, so two different names never map to one file. The harness never
writes under a changed name: :func:`name_problem` says why a name would change, and a sweep
with such a name is refused before anything trains.

Example
-------
>>> safe_name("mlp_small")
'mlp_small'
>>> safe_name("../../../ESCAPED")
'_._.._.._ESCAPED-434be72a'
"""

from __future__ import annotations

import hashlib
import re

NAME_LIMIT = 64
"""Longest model, preset, dataset or backend name, in characters."""
FILE_NAME_LIMIT = 200
"""Longest name of a file or folder the harness makes from names (a run id), in characters;
file systems allow 255 bytes, and temporaries add a prefix and a suffix."""
RUN_ID_EXTRA = "@"
"""A run id may also hold ``@``: it joins a model to a Keras backend (``cnn_fast.default@jax``)
in ids that records made since backends existed already carry."""
ALLOWED = "A-Z a-z 0-9 . _ -"
_OUTSIDE = re.compile(r"[^A-Za-z0-9._-]")
_HASH_CHARACTERS = 8


def run_id_problem(run_id: str) -> str | None:
    """None if ``run_id`` can name a run's folder unchanged, else why not."""
    return name_problem(run_id, FILE_NAME_LIMIT, RUN_ID_EXTRA)


def safe_name(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` if it is already a safe name of at most ``limit`` characters, else a safe name
    for it: characters outside the allowed ones become ``_``, a leading dot becomes ``_``, and
    ``-`` plus 8 hex characters of the original's SHA-256 are appended (cutting the name to fit
    ``limit``)."""
    if limit <= _HASH_CHARACTERS + 1:
        raise ValueError(f"limit must leave room for the hash suffix, got {limit}")
    cleaned = _OUTSIDE.sub("_", text)
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    if cleaned == text and text and len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARACTERS]
    return f"{cleaned[: limit - _HASH_CHARACTERS - 1]}-{digest}"


def name_problem(text: str, limit: int = NAME_LIMIT, extra: str = "") -> str | None:
    """None if :func:`safe_name` keeps ``text`` unchanged, else why it would change it;
    ``extra`` characters are allowed too (:data:`RUN_ID_EXTRA` for a run id)."""
    if not isinstance(text, str) or not text:
        return "is empty"
    bad = sorted(set(_OUTSIDE.findall(text)) - set(extra))
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:5])
        problem = f"holds characters a file name may not have here ({shown}); use only {ALLOWED}"
    elif text.startswith("."):
        problem = "starts with a dot (a hidden file, or a way up to the folder above)"
    elif len(text) > limit:
        problem = f"is {len(text)} characters long, more than the {limit} allowed"
    else:
        return None
    return f"{problem} (a name that would do: {safe_name(text, limit)!r})" if not extra else problem
