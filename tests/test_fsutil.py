"""Atomic writes: file modes under the umask, the temporaries they leave when killed, and the
rule that every writer in the project goes through them."""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.core.fsutil import (
    atomic_write_bytes,
    atomic_write_json,
    is_temporary_name,
    remove_stale_temporaries,
)
from bench.data.loader import load_idx_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]
HOUR = 3600.0


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------------------ modes


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o027, 0o640)]
)
def test_atomic_write_gives_the_mode_of_a_plain_open(tmp_path, mask, expected):
    with umask(mask):
        atomic_write_bytes(tmp_path / "new.bin", b"x")
        atomic_write_json(tmp_path / "deep" / "record.json", {"a": 1})
        with (tmp_path / "plain.txt").open("w") as handle:
            handle.write("x")
    assert mode_of(tmp_path / "new.bin") == expected
    assert mode_of(tmp_path / "deep" / "record.json") == expected
    assert mode_of(tmp_path / "plain.txt") == expected


def test_overwriting_keeps_the_umask_mode_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "leaderboard.md"
    with umask(0o022):
        atomic_write_bytes(path, b"old")
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert mode_of(path) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leaderboard.md"]


def test_cache_files_are_readable_by_others_under_umask_022(tiny_idx, bench_home):
    with umask(0o022):
        load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    modes = {path.name: mode_of(path) for path in (bench_home / "tiny").iterdir()}
    assert modes == dict.fromkeys(
        ["manifest.json", "x_test.npy", "x_train.npy", "y_test.npy", "y_train.npy"], 0o644
    )


# ------------------------------------------------------------------- every writer uses it

WRITING_METHODS = {"write_bytes", "write_text", "tofile"}
SERIALISERS = {"savefig", "save", "savez", "savez_compressed", "dump", "imsave", "to_parquet"}
TEXT_RENDERERS = {"to_csv", "to_json"}  # write a file only when given a path
KERNEL_CONTROLS = {"CLEAR_REFS_FILE"}  # /proc files written to steer the kernel, not data


def writes_outside_fsutil(source: str) -> list[tuple[int, str]]:
    """Calls in ``source`` that write a file directly instead of through bench.core.fsutil.

    Serialisers (methods such as ``fig.savefig``, ``np.save``, ``json.dump``, ``torch.save``) may
    only write into an in-memory buffer: a name bound to ``io.BytesIO()`` / ``io.StringIO()`` in
    the same module. Inside ``with tempfile.TemporaryDirectory()`` anything goes: a private
    folder removed when the block ends holds no output (Keras saves an archive only to a path).
    """
    tree = ast.parse(source)
    private = [
        range(node.lineno, (node.end_lineno or node.lineno) + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.With)
        and any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "attr", "") == "TemporaryDirectory"
            for item in node.items
        )
    ]
    buffers = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr in {"BytesIO", "StringIO"}
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or any(node.lineno in block for block in private):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        owner = getattr(getattr(node.func, "value", None), "id", "")
        to_a_path = bool(node.args) or any(k.arg == "path_or_buf" for k in node.keywords)
        direct = name in WRITING_METHODS and owner not in KERNEL_CONTROLS
        if direct or (name in TEXT_RENDERERS and to_a_path):
            found.append((node.lineno, name))
        elif name in SERIALISERS and isinstance(node.func, ast.Attribute):
            # json.dump(obj, f) and torch.save(obj, f) take the file second, np.save(f, a) first
            candidates = node.args[1:2] if name in {"dump", "save"} else []
            candidates += node.args[:1] if name != "dump" else []
            if not any(isinstance(t, ast.Name) and t.id in buffers for t in candidates):
                found.append((node.lineno, name))
        elif name in {"open", "fdopen", "NamedTemporaryFile", "mkstemp"}:
            mode = node.args[1] if len(node.args) > 1 else None
            mode = next((k.value for k in node.keywords if k.arg == "mode"), mode)
            writes = isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax+")
            if writes or name in {"NamedTemporaryFile", "mkstemp"}:
                found.append((node.lineno, name))
    return found


def test_the_scan_finds_direct_writes():
    source = (
        "import io, json\n"
        "buffer = io.BytesIO()\n"
        "fig.savefig(buffer)\n"  # fine: into memory
        "fig.savefig(path)\n"
        "path.write_text('x')\n"
        "open(path, 'w')\n"
        "open(path, mode='ab')\n"
        "open(path)\n"  # fine: reading
        "json.dump(data, handle)\n"
        "np.save(path, array)\n"
        "save(fig, 'name', 'caption')\n"  # fine: a local function, not a serialiser
        "text = frame.to_csv(index=False)\n"  # fine: returns text
        "frame.to_csv(path)\n"
    )
    assert writes_outside_fsutil(source) == [
        (4, "savefig"),
        (5, "write_text"),
        (6, "open"),
        (7, "open"),
        (9, "dump"),
        (10, "save"),
        (13, "to_csv"),
    ]


def test_the_scan_knows_buffers_second_and_private_temporary_folders():
    source = (
        "import io, tempfile, torch\n"
        "state = io.BytesIO()\n"
        "torch.save(weights, state)\n"  # fine: into memory, the file second
        "torch.save(weights, path)\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        "    model.save(folder + '/model.keras')\n"  # fine: a private folder, removed at once
        "model.save(path)\n"
    )
    assert writes_outside_fsutil(source) == [(4, "save"), (7, "save")]


def test_every_writer_in_the_project_goes_through_fsutil():
    """Records, leaderboard, figures and cache all get atomic writes and the umask's mode."""
    folders = [REPO_ROOT / "bench", REPO_ROOT / "architectures"]
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line}: {name}"
        for folder in folders
        if folder.is_dir()
        for path in sorted(folder.rglob("*.py"))
        if path != REPO_ROOT / "bench" / "core" / "fsutil.py"
        for line, name in writes_outside_fsutil(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "write these through bench.core.fsutil: " + ", ".join(offenders)


# ------------------------------------------------------------ temporaries of killed writes


def make_file(path: Path, age_s: float, content: bytes = b"partial") -> Path:
    path.write_bytes(content)
    mtime = time.time() - age_s
    os.utime(path, (mtime, mtime))
    return path


def test_a_killed_write_leaves_a_temporary_the_cleaner_recognises(tmp_path):
    """SIGKILL between writing and renaming: the temporary stays, the target is untouched."""
    target = tmp_path / "x_train.npy"
    target.write_bytes(b"old")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import bench.core.fsutil as fsutil\n"
        "os.replace = lambda *_: os.kill(os.getpid(), signal.SIGKILL)\n"
        "fsutil.atomic_write_bytes(Path(sys.argv[1]), b'new' * 1000)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-c", script, str(target)], env=env, timeout=60)
    assert result.returncode == -9
    (left,) = [path for path in tmp_path.iterdir() if path != target]
    assert is_temporary_name(left.name)
    assert left.name.startswith(".x_train.npy.")
    assert left.stat().st_size == 3000
    assert remove_stale_temporaries(tmp_path) == []  # a writer may still be at work
    assert remove_stale_temporaries(tmp_path, older_than_s=0, now=time.time() + 1) == [left]
    assert [path.name for path in tmp_path.iterdir()] == ["x_train.npy"]
    assert target.read_bytes() == b"old"


def test_only_old_files_with_the_exact_temporary_pattern_are_removed(tmp_path):
    stale = [
        make_file(tmp_path / ".x_train.npy.0f3a9c21.tmp", 2 * HOUR),
        make_file(tmp_path / ".manifest.json.k2_8zq0p.tmp", 2 * HOUR),  # mkstemp's alphabet
        make_file(tmp_path / "..hidden.abcdef12.tmp", 2 * HOUR),
    ]
    kept = [
        make_file(tmp_path / ".x_test.npy.0f3a9c21.tmp", 10),  # young: a writer at work
        make_file(tmp_path / ".x_test.npy.0f3a9c2.tmp", 2 * HOUR),  # 7 characters
        make_file(tmp_path / ".x_test.npy.0f3a9c21a.tmp", 2 * HOUR),  # 9 characters
        make_file(tmp_path / ".x_test.npy.0F3A9C21.tmp", 2 * HOUR),  # upper case
        make_file(tmp_path / "x_test.npy.0f3a9c21.tmp", 2 * HOUR),  # no leading dot
        make_file(tmp_path / ".x_test.npy.0f3a9c21.tmp~", 2 * HOUR),
        make_file(tmp_path / "..0f3a9c21.tmp", 2 * HOUR),  # no target name
        make_file(tmp_path / ".notes.tmp", 2 * HOUR),
        make_file(tmp_path / "x_test.npy", 2 * HOUR),
        make_file(tmp_path / "manifest.json", 2 * HOUR),
    ]
    folder_like = tmp_path / ".results.abcdef12.tmp"
    folder_like.mkdir()
    os.utime(folder_like, (time.time() - 2 * HOUR,) * 2)
    outside = make_file(tmp_path / "elsewhere.bin", 2 * HOUR, b"precious")
    link = tmp_path / ".link.abcdef12.tmp"
    link.symlink_to(outside)
    os.utime(link, (time.time() - 2 * HOUR,) * 2, follow_symlinks=False)
    nested = tmp_path / "sub"
    nested.mkdir()
    deeper = make_file(nested / ".y_test.npy.abcdef12.tmp", 2 * HOUR)

    removed = remove_stale_temporaries(tmp_path, older_than_s=HOUR)

    assert sorted(removed) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in [*kept, folder_like, outside, link, deeper])
    assert outside.read_bytes() == b"precious"


def test_recursive_search_reaches_run_folders_but_not_through_links(tmp_path):
    run = tmp_path / "runs" / "2026-12-01_cnn"
    run.mkdir(parents=True)
    top = make_file(tmp_path / ".LEADERBOARD.md.abcdef12.tmp", 2 * HOUR)
    deep = make_file(run / ".record.json.abcdef12.tmp", 2 * HOUR)
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    beyond_link = make_file(elsewhere / ".record.json.abcdef12.tmp", 2 * HOUR)
    (tmp_path / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert remove_stale_temporaries(tmp_path) == [top]
    assert remove_stale_temporaries(tmp_path, recursive=True) == [deep]
    assert beyond_link.exists()


def test_the_age_limit_is_respected(tmp_path):
    path = make_file(tmp_path / ".record.json.abcdef12.tmp", 100)
    assert remove_stale_temporaries(tmp_path, older_than_s=200) == []
    assert remove_stale_temporaries(tmp_path, older_than_s=50) == [path]


def test_a_missing_folder_has_nothing_to_remove_and_a_negative_age_is_refused(tmp_path):
    assert remove_stale_temporaries(tmp_path / "absent") == []
    with pytest.raises(ValueError, match="older_than_s must be 0 or more, got -1"):
        remove_stale_temporaries(tmp_path, older_than_s=-1)


def test_loading_a_dataset_clears_old_temporaries_from_its_cache(tiny_idx, bench_home):
    load_idx_dataset(tiny_idx.spec, tiny_idx.folder)
    cache = bench_home / "tiny"
    old = make_file(cache / ".x_train.npy.abcdef12.tmp", 2 * HOUR, bytes(1000))
    young = make_file(cache / ".x_train.npy.12abcdef.tmp", 5)
    assert load_idx_dataset(tiny_idx.spec).source == f"cache:{cache}"
    assert not old.exists()
    assert young.exists()
