"""Loading an IDX dataset from the first source that works: mirror, cache, then fallbacks."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bench.core.errors import BenchError
from bench.core.fsutil import remove_stale_temporaries
from bench.data.cache import ArrayCache, cache_home
from bench.data.dataset import Dataset
from bench.data.folder import FolderSource
from bench.data.spec import FileCheck, IdxSpec, Source, SourceRejected, SourceUnavailable, Split

log = logging.getLogger("bench.data")


def mirror_source(spec: IdxSpec, data_dir: str | Path | None) -> FolderSource:
    """The user's folder: ``data_dir`` if given, else the dataset's mirror variable."""
    folder = data_dir or os.environ.get(spec.mirror_env) or None
    origin = "--data-dir" if data_dir else spec.mirror_env
    hint = (
        f"put the four IDX files (raw or .gz) in a folder and set "
        f"{spec.mirror_env}=/path/to/idx/files (or pass --data-dir DIR)"
    )
    return FolderSource(
        spec,
        Path(folder).expanduser() if folder else None,
        "mirror",
        hint,
        explicit=True,
        fix=mirror_fix(spec),
        origin=origin,
    )


def mirror_fix(spec: IdxSpec) -> str:
    """How to repair a bad file in the user's own folder (bench never deletes it)."""
    return (
        "this copy in your own folder is damaged, truncated or not the published file "
        "(bench leaves it as it is); replace it with a good copy of the published file, "
        f"raw or .gz, or point --data-dir / {spec.mirror_env} at a folder that has one"
    )


def dataset_cache(spec: IdxSpec) -> ArrayCache:
    """The cache of ``spec`` under the cache root."""
    return ArrayCache(spec, cache_home() / spec.name)


def load_idx_dataset(spec: IdxSpec, data_dir: str | Path | None = None) -> Dataset:
    """Return ``spec``'s data from the first source that gives verified data; cache it."""
    cache = dataset_cache(spec)
    _clean_cache_folder(cache)
    sources: list[Source] = [mirror_source(spec, data_dir), cache, *spec.fallback_sources(spec)]
    failures: list[tuple[Source, str]] = []
    for source in sources:
        try:
            split = source.fetch()
        except SourceUnavailable as error:
            log.info("%s: %s", source.label, error)
            failures.append((source, str(error)))
        except SourceRejected as error:
            log.warning("%s: not used: %s", source.label, error)
            failures.append((source, str(error)))
        else:
            cache_path = str(cache.folder) if source is cache else _keep_copy(cache, split)
            return _dataset(spec, split, cache_path)
    raise _all_failed(spec, failures)


def verify_idx_dataset(spec: IdxSpec, data_dir: str | Path | None = None) -> list[FileCheck]:
    """Re-hash every local copy of ``spec``: the mirror folder if set, the cache, and any
    local fallback folder (such as a system package's)."""
    cache = dataset_cache(spec)
    local = [mirror_source(spec, data_dir), cache, *spec.fallback_sources(spec)]
    checks = [check for source in local for check in source.verify()]
    if not checks:
        raise BenchError(
            f"nothing to verify: no cached copy of '{spec.name}' in {cache.folder} and no "
            f"mirror folder set (neither --data-dir nor {spec.mirror_env}). "
            f"Fetch it first: python -m bench data fetch --dataset {spec.name}"
        )
    return checks


def _clean_cache_folder(cache: ArrayCache) -> None:
    """Remove temporaries that interrupted cache writes left behind (old ones only)."""
    try:
        removed = remove_stale_temporaries(cache.folder)
    except OSError as error:
        log.warning("%s: could not look for stale temporary files (%s)", cache.label, error)
        return
    for path in removed:
        log.info("%s: removed %s, left by an interrupted write", cache.label, path.name)


def _keep_copy(cache: ArrayCache, split: Split) -> str | None:
    """Store ``split`` in the cache unless it already holds good data; return the cache path."""
    try:
        cache.fetch()
        return str(cache.folder)
    except SourceUnavailable:
        pass
    except SourceRejected as error:
        log.warning("%s: replacing a bad cache entry: %s", cache.label, error)
    try:
        cache.store(split)
    except OSError as error:
        log.warning("%s: could not write the cache (%s); data not cached", cache.label, error)
        return None
    return str(cache.folder)


def _dataset(spec: IdxSpec, split: Split, cache_path: str | None) -> Dataset:
    return Dataset(
        name=spec.name,
        class_names=spec.class_names,
        source=split.source,
        checksums=dict(split.checksums),
        cache_path=cache_path,
        **split.arrays,
    )


def _all_failed(spec: IdxSpec, failures: list[tuple[Source, str]]) -> BenchError:
    lines = [f"could not load dataset '{spec.name}' from any source. Tried, in order:"]
    lines += [f"  {n}. {source.label}: {reason}" for n, (source, reason) in enumerate(failures, 1)]
    lines.append("To fix, do any one of:")
    lines += [f"  - {source.hint}" for source, _ in failures if source.hint]
    return BenchError("\n".join(lines))
