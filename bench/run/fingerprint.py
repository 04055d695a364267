"""What code made a run: the model's own source, the harness version, the git commit.

The model fingerprint hashes the source of the model's builder, of the callables its
registration names (optimizer, loss, preprocess), and of every function of the same files
those call by name, followed to a fixed point. Decorators are left out: a registration's
notes, search space or references change no number a run makes, and what it declares that
does (config, presets, the robustness subset) is in the run's config hash already. The
fingerprint enters the run's config hash, so a run made by changed model code never counts as
done for ``--resume`` and its old records are listed as stale ("model code changed"). The git
commit and dirty flag are recorded, not hashed: a change elsewhere in the repository does not
invalidate results.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import subprocess
import sys
import textwrap
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.core.version import __version__
from bench.models.spec import ModelSpec

GIT_TIMEOUT_SECONDS = 5


def model_sources(spec: ModelSpec) -> dict[str, str]:
    """Qualified name -> source text of every function the model's code consists of."""
    pending: list[Callable[..., Any]] = [
        f for f in (spec.build, spec.optimizer, spec.loss, spec.preprocess) if callable(f)
    ]
    sources: dict[str, str] = {}
    while pending:
        function = pending.pop()
        name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"
        if name in sources:
            continue
        try:
            sources[name] = without_decorators(inspect.getsource(function))
        except (OSError, TypeError):
            sources[name] = repr(function)
            continue
        pending.extend(_same_file_callees(function))
    return sources


def without_decorators(source: str) -> str:
    r"""``source`` of one function or class from its ``def``/``class`` line on.

    Example
    -------
    >>> without_decorators("@register(x=1)\ndef f():\n    return 2\n")
    'def f():\n    return 2\n'
    """
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return source
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return source
    return "".join(source.splitlines(keepends=True)[node.lineno - 1 :])


def _same_file_callees(function: Callable[..., Any]) -> list[Callable[..., Any]]:
    """Functions and classes of ``function``'s module that its code names."""
    code = getattr(function, "__code__", None)
    module = sys.modules.get(getattr(function, "__module__", ""), None)
    if code is None or module is None:
        return []
    names = set(code.co_names)
    for constant in code.co_consts:  # nested functions and lambdas
        if inspect.iscode(constant):
            names.update(constant.co_names)
    found: list[Callable[..., Any]] = []
    for name in names:
        value = getattr(module, name, None)
        if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == (
            module.__name__
        ):
            found.append(value)
    return found


def model_fingerprint(spec: ModelSpec) -> str:
    """Short SHA-256 of the model's code (see :func:`model_sources`)."""
    digest = hashlib.sha256()
    for name, source in sorted(model_sources(spec).items()):
        digest.update(name.encode() + b"\0" + source.encode() + b"\0")
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    """The commit of the checkout this code runs from and whether it has uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit or None, "git_dirty": dirty if commit else None}


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_SECONDS,
        check=True,
    )
    return result.stdout.strip()


def code_info(spec: ModelSpec) -> dict[str, Any]:
    """The record's ``code`` entry: model fingerprint, harness version, git commit and state."""
    return {
        "model_fingerprint": model_fingerprint(spec),
        "harness_version": __version__,
        **git_state(),
    }
