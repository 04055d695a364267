"""Models from a file of your own: ``--models-from my_models.py``, no packaging needed.

The file is imported by its path (``importlib``) as the module ``mnist_bench_models.<stem>``,
the same name wherever the file lies, so its models' code fingerprints (and run ids) do not
depend on the folder. It registers models with :func:`~bench.models.registry.register_model`
exactly as a file in ``architectures/`` does. The harness remembers which file defined each
model, so a worker process or machine that trains one of them loads the same file first.

Example
-------
>>> names = load_model_file("my_models.py")  # doctest: +SKIP
>>> names
['my_cnn']
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from bench.core.errors import BenchError
from bench.models.registry import REGISTRY, list_models

MODULE_PREFIX = "mnist_bench_models"


class _Loaded:
    """A loaded file: its module, the hash of its text, and the models it registered."""

    def __init__(self, module: ModuleType, digest: str, names: list[str]) -> None:
        self.module = module
        self.digest = digest
        self.names = names


_LOADED: dict[Path, _Loaded] = {}
_MODEL_FILES: dict[str, Path] = {}


def module_name(path: Path) -> str:
    """The module name a model file is imported as: ``mnist_bench_models.<stem>``."""
    stem = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in path.stem)
    return f"{MODULE_PREFIX}.{stem}"


def load_model_file(path: str | Path) -> list[str]:
    """Import the model file at ``path`` and return the names of the models it registered.

    Loading a file again does nothing while its text is unchanged; an edited file replaces
    the models it registered before. Raises :class:`BenchError` for a missing file, a syntax
    error, an exception while importing, a name clash, or a file that registers no model.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        where = "is a folder" if path.is_dir() else "does not exist"
        raise BenchError(f"--models-from {path}: the file {where}; give the path of a .py file")
    path = path.resolve()
    try:
        text = path.read_bytes()
    except OSError as error:
        raise BenchError(f"--models-from {path}: cannot read it ({error.strerror})") from None
    digest = hashlib.sha256(text).hexdigest()
    loaded = _LOADED.get(path)
    if loaded is not None and loaded.digest == digest:
        return list(loaded.names)
    name = module_name(path)
    for other, entry in _LOADED.items():
        if other != path and entry.module.__name__ == name:
            raise BenchError(
                f"--models-from {path}: another model file with the same name is loaded "
                f"({other}); rename one of them"
            )
    list_models()  # built-in and plugin models first, so a clash names this file
    if loaded is not None:
        _forget(path)
    before = set(list_models())
    module = _import(path, name, text)
    names = [n for n in list_models() if n not in before]
    if not names:
        sys.modules.pop(name, None)
        raise BenchError(
            f"--models-from {path}: the file registers no model; decorate a builder function "
            "with @register_model(...) from bench.models.registry (see the README)"
        )
    _LOADED[path] = _Loaded(module, digest, names)
    for model in names:
        _MODEL_FILES[model] = path
    return list(names)


def _import(path: Path, name: str, text: bytes) -> ModuleType:
    """Execute the file as module ``name``, turning any failure into a clear BenchError."""
    try:
        compile(text, str(path), "exec")
    except SyntaxError as error:
        raise BenchError(
            f"--models-from {path}: syntax error on line {error.lineno}: {error.msg}"
        ) from None
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BenchError(f"--models-from {path}: Python cannot import this file")
    module = importlib.util.module_from_spec(spec)
    _ensure_package()
    sys.modules[name] = module  # the fingerprint and pickling find functions through it
    before = set(REGISTRY.names())
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(name, None)
        for model in set(REGISTRY.names()) - before:
            REGISTRY.remove(model)
        if isinstance(error, BenchError):
            raise BenchError(f"--models-from {path}: {error}") from None
        line = _line_in(path, error)
        raise BenchError(
            f"--models-from {path}: importing it failed{line}: {type(error).__name__}: {error}"
        ) from None
    return module


def _line_in(path: Path, error: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
    return f" on line {frames[-1].lineno}" if frames else ""


def _ensure_package() -> None:
    """An empty namespace module as the parent of every loaded model file."""
    if MODULE_PREFIX not in sys.modules:
        package = ModuleType(MODULE_PREFIX)
        package.__path__ = []  # a package with no files of its own
        sys.modules[MODULE_PREFIX] = package


def _forget(path: Path) -> None:
    entry = _LOADED.pop(path)
    for model in entry.names:
        REGISTRY.remove(model)
        _MODEL_FILES.pop(model, None)
    sys.modules.pop(entry.module.__name__, None)


def model_file(name: str) -> str | None:
    """The file that defined model ``name`` (absolute path), or None for a built-in model."""
    path = _MODEL_FILES.get(name)
    return None if path is None else str(path)


def load_model_files(paths: list[str] | tuple[str, ...]) -> list[str]:
    """Load every file of ``paths`` in order; return all the model names they registered."""
    names: list[str] = []
    for path in paths:
        names.extend(load_model_file(path))
    return names


def unload_model_files() -> None:
    """Forget every loaded model file and the models it registered (for tests)."""
    for path in list(_LOADED):
        _forget(path)
