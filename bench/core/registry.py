"""One registry mechanism for everything that is looked up by name.

Models, model families, datasets, metrics and executors each have one :class:`Registry`.
An entry is registered with a decorator (or :meth:`Registry.add`); a registry may also be given
*loaders*, functions that import the modules registering its entries, which run the first time
the registry is consulted, so listing a registry imports only what it must. Unknown names get
an error that names close matches and every known name.

Example
-------
>>> colours = Registry("colour")
>>> @colours.register("red")
... def red():
...     return "#f00"
>>> colours.get("red")()
'#f00'
>>> colours.names("r*")
['red']
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from bench.core.errors import BenchError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> entry mapping with decorator registration, wildcards and helpful errors.

    Parameters
    ----------
    kind:
        What the entries are, for messages ("model", "dataset", ...).
    hint:
        A sentence appended to the unknown-name error, e.g. which command lists the names.
    """

    def __init__(self, kind: str, hint: str = "") -> None:
        self.kind = kind
        self.hint = hint
        self._entries: dict[str, T] = {}
        self._loaders: list[Callable[[], None]] = []
        self._loaded = False

    def add_loader(self, loader: Callable[[], None]) -> None:
        """Run ``loader`` (which registers entries) before the registry is first read."""
        self._loaders.append(loader)
        self._loaded = False

    def add(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Register ``entry`` under ``name``; a second entry with that name is an error."""
        if name in self._entries and self._entries[name] is not entry and not replace:
            raise BenchError(f"{self.kind} name {name!r} is registered twice; rename one of them")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@registry.register("name")``."""

        def decorator(entry: T) -> T:
            return self.add(name, entry)

        return decorator

    def remove(self, name: str) -> None:
        """Forget ``name`` (for tests and for reloading a user's model file)."""
        self._entries.pop(name, None)

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for loader in list(self._loaders):
            loader()

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching the fnmatch ``pattern``, in natural order (2 before 10)."""
        self._ensure_loaded()
        matches = [name for name in self._entries if fnmatch.fnmatch(name, pattern)]
        return sorted(matches, key=natural_key)

    def in_registration_order(self) -> list[T]:
        """Every entry, in the order it was registered (for tables with a natural order)."""
        self._ensure_loaded()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        """Return the entry called ``name`` or raise a :class:`BenchError` naming close matches."""
        self._ensure_loaded()
        if name in self._entries:
            return self._entries[name]
        close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        known = ", ".join(self.names()) or "(none)"
        tail = f" {self.hint}" if self.hint else ""
        raise BenchError(f"unknown {self.kind} {name!r}.{hint} Known: {known}.{tail}")


def natural_key(name: str) -> list[Any]:
    """Sort key that orders embedded numbers by value: ``lenet5`` before ``lenet10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def discover(package: str | None = None, group: str | None = None) -> Callable[[], None]:
    """The one way every registry finds its entries: a loader (see :meth:`Registry.add_loader`)
    that imports each public module of the folder ``package`` (names not starting with ``_``, in
    name order) and then loads each entry point of ``group``, the plugins of installed packages.

    A plugin that fails to load is reported on stderr and skipped, so it cannot hide the
    built-in entries. Importing a module twice does nothing, so registries that share a source
    (models and the metrics model files declare) may both name it.
    """

    def load() -> None:
        if package is not None:
            folder = importlib.import_module(package)
            for module in sorted(pkgutil.iter_modules(folder.__path__), key=lambda m: m.name):
                if not module.name.startswith("_"):
                    importlib.import_module(f"{package}.{module.name}")
        for entry_point in entry_points(group=group) if group is not None else ():
            try:
                entry_point.load()
            except Exception as error:  # a broken plugin must not hide the built-in entries
                print(
                    f"warning: plugin {entry_point.name!r} failed to load: {error}", file=sys.stderr
                )

    return load
