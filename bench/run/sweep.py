"""Sweep files: ``bench run --config sweep.toml`` names what a sweep runs, in TOML.

A sweep file holds the same choices as ``bench run``'s flags, under these keys (all optional,
but something must name the models)::

    models = ["mlp", "logreg:quick"]     # or "all"; NAME or NAME:PRESET, wildcards allowed
    datasets = ["mnist", "fashion_mnist"]
    seeds = [0, 1, 2]                    # or: seed = 0 and repeats = 3
    quick = false
    limit_train = 10000
    limit_test = 2000
    deterministic = false
    data_dir = "/data/mnist"
    executor = "local"                   # or "dask", with scheduler = "tcp://HOST:8786"
    resume = true
    report = true
    results_dir = "results"
    track = ["mlflow"]
    tracking_uri = "http://HOST:5000"

    [set]                                # --set KEY=VALUE: every model that has the key
    epochs = 2
    [set.mlp]                            # --set mlp.KEY=VALUE: one model only
    learning_rate = 0.0005

Flags given on the command line win over the file (``--set`` values are added after the
file's, so the command line's value of a key wins). Paths are taken from the current folder,
as on the command line. :func:`resolve_sweep` merges both into one :class:`Sweep`;
:func:`save_sweep` writes the resolved sweep into ``<results>/sweeps/`` for the report.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import shlex
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_json
from bench.core.safe_io import UnsafeFile, read_text, read_toml
from bench.core.spec import DEFAULT_BACKEND, OUR_CORRUPTIONS
from bench.results.store.files import DEFAULT_RESULTS_DIR
from bench.run.backends import parse_backends
from bench.run.options import OPTIONS

SWEEPS_FOLDER = "sweeps"
SWEEP_FORMAT = "mnist-bench sweep 1"
DEFAULT_DATASET = "mnist"
SWEEP_FILE_LIMIT = 2**20
"""Largest sweep file read, in bytes."""

SHAPED_KEYS: dict[str, str] = {
    "models": 'a list of NAME or NAME:PRESET (wildcards allowed), or "all"',
    "datasets": "a list of dataset names (or one name)",
    "backends": 'a list of Keras backends ("tensorflow", "jax", "torch") or one name',
    "seeds": "a list of seeds, e.g. [0, 1, 2]",
    "seed": "the first seed (an integer, 0 or more)",
    "repeats": "how many seeds from 'seed' on (an integer, 1 or more)",
    "set": "a table of config values: KEY = VALUE, or a sub-table [set.MODEL]",
    "robustness": "true (our MNIST-C corruptions) or a folder of the published MNIST-C files",
    "report": "true or false (false: do not regenerate the leaderboard)",
    "track": 'a list of trackers ("mlflow", "tensorboard") or one name',
}
"""The keys whose values have a shape of their own (lists, tables, two flags in one)."""

KEYS: dict[str, str] = {
    **SHAPED_KEYS,
    **{option.name: option.requirement for option in OPTIONS},
}
"""Every key a sweep file may hold, with what its value must be."""
OPTION_KINDS = {option.name: option.kind for option in OPTIONS}


@dataclass(frozen=True)
class Sweep:
    """One ``bench run``, fully resolved from the sweep file and the command line."""

    models: list[str] | None  # None: every registered model
    datasets: list[str]
    seeds: list[int]
    backends: list[str] = field(default_factory=lambda: [DEFAULT_BACKEND])
    overrides: list[str] = field(default_factory=list)
    quick: bool = False
    limit_train: int | None = None
    limit_test: int | None = None
    deterministic: bool = False
    data_dir: str | None = None
    robustness: str | None = None  # "ours", or a folder of the published MNIST-C files
    executor: str | None = None
    scheduler: str | None = None
    resume: bool = False
    report: bool = True
    results_dir: Path = DEFAULT_RESULTS_DIR
    track: list[str] = field(default_factory=list)
    tracking_uri: str | None = None
    source: Path | None = None
    save_model: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (paths as text, ``models`` ``"all"`` for every model)."""
        data = asdict(self)
        data["models"] = "all" if self.models is None else list(self.models)
        data["results_dir"] = str(self.results_dir)
        data["source"] = None if self.source is None else str(self.source)
        return data


def read_sweep_file(path: Path) -> dict[str, Any]:
    """Read and check a sweep file; return its values under the keys of :data:`KEYS`
    (``set`` already turned into ``--set`` strings). Errors name the file and the key."""
    path = Path(path)
    if not path.exists():
        raise BenchError(f"no sweep file {path}")
    try:
        data = read_toml(path, limit=SWEEP_FILE_LIMIT)
    except UnsafeFile as error:
        raise BenchError(f"sweep file {error}") from None
    return check_sweep_values(data, where=f"sweep file {path}")


def check_sweep_values(data: dict[str, Any], where: str = "sweep file") -> dict[str, Any]:
    """Check every key and value of a parsed sweep file; see :func:`read_sweep_file`."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise BenchError(f"{where}: unknown key '{key}'.{hint} Allowed keys: {', '.join(KEYS)}")
        values[key] = _check_value(key, value, where)
    if "seeds" in values and ("seed" in values or "repeats" in values):
        raise BenchError(f"{where}: give either 'seeds' or 'seed'/'repeats', not both")
    return values


def _check_value(key: str, value: Any, where: str) -> Any:
    def wrong() -> BenchError:
        shown = json.dumps(value, default=str)
        return BenchError(f"{where}: '{key}' must be {KEYS[key]}, got {shown}")

    if key == "models":
        if value == "all":
            return None
        return _names(value, wrong)
    if key in ("datasets", "track", "backends"):
        return _names([value] if isinstance(value, str) else value, wrong)
    if key == "seeds":
        if not isinstance(value, list) or not value or not all(_is_int(s) for s in value):
            raise wrong()
        if any(s < 0 for s in value) or len(set(value)) != len(value):
            raise wrong()
        return list(value)
    if key in ("seed", "repeats") or OPTION_KINDS.get(key) == "count":
        smallest = 0 if key == "seed" else 1
        if not _is_int(value) or value < smallest:
            raise wrong()
        return value
    if key == "report" or OPTION_KINDS.get(key) == "switch":
        if not isinstance(value, bool):
            raise wrong()
        return value
    if key == "robustness":
        if value is True:
            return OUR_CORRUPTIONS
        if value is False:
            return None
        if not isinstance(value, str) or not value.strip():
            raise wrong()
        return value
    if key == "set":
        if not isinstance(value, dict):
            raise wrong()
        return _override_strings(value, where)
    if not isinstance(value, str) or not value.strip():
        raise wrong()
    return value


def _names(value: Any, wrong: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise wrong()
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise wrong()
    return [item.strip() for item in value]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _override_strings(table: dict[str, Any], where: str) -> list[str]:
    """``{"epochs": 2, "mlp": {"lr": 0.1}}`` -> ``["epochs=2", "mlp.lr=0.1"]``."""
    pairs = []
    for key, value in table.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                pairs.append(f"{key}.{inner}={_text(f'set.{key}.{inner}', inner_value, where)}")
        else:
            pairs.append(f"{key}={_text(f'set.{key}', value, where)}")
    return pairs


def _text(key: str, value: Any, where: str) -> str:
    """A TOML value as ``--set`` would spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise BenchError(
        f"{where}: '{key}' must be a number, true/false or text "
        f"(as --set takes), got {json.dumps(value, default=str)}"
    )


def resolve_sweep(args: argparse.Namespace) -> Sweep:
    """Merge ``bench run``'s flags with ``--config``'s file (flags win) into a :class:`Sweep`.

    Flags not given on the command line are None in ``args``.
    """
    source = Path(args.config) if getattr(args, "config", None) else None
    file = read_sweep_file(source) if source else {}

    if args.all:
        models: list[str] | None = None
    elif args.model is not None:
        models = _split(args.model, "--model")
    elif "models" in file:
        models = file["models"]
    else:
        raise BenchError(
            "say which models to run: --all, --model NAMES, or models = [...] in a "
            "sweep file given with --config"
        )
    datasets = _split(args.dataset, "--dataset") if args.dataset is not None else None
    track = _split(",".join(args.track), "--track") if args.track else file.get("track", [])
    no_report = getattr(args, "no_report", None)
    return Sweep(
        models=models,
        datasets=datasets or file.get("datasets") or [DEFAULT_DATASET],
        seeds=_seeds(args, file),
        backends=parse_backends(
            args.backend
            if getattr(args, "backend", None) is not None
            else ",".join(file.get("backends", [DEFAULT_BACKEND]))
        ),
        overrides=[*file.get("set", []), *(args.overrides or [])],
        robustness=_robustness(args, file),
        report=False if no_report else bool(file.get("report", True)),
        track=track,
        source=source,
        **{o.name: o.resolve(getattr(args, o.name, None), file) for o in OPTIONS},
    )


def _robustness(args: argparse.Namespace, file: dict[str, Any]) -> str | None:
    """``--robustness-from DIR``, else ``--robustness``, else the file's ``robustness``."""
    if getattr(args, "robustness_from", None):
        return args.robustness_from
    if getattr(args, "robustness", None):
        return OUR_CORRUPTIONS
    return file.get("robustness")


def _seeds(args: argparse.Namespace, file: dict[str, Any]) -> list[int]:
    from bench.run.selection import check_seeds, seed_list

    if args.seed is None and args.repeats is None and "seeds" in file:
        return check_seeds(file["seeds"], where="sweep file 'seeds'")
    first = file.get("seeds", [None])[0]
    seed = args.seed if args.seed is not None else file.get("seed", first or 0)
    repeats = args.repeats if args.repeats is not None else file.get("repeats", 1)
    return seed_list(seed, repeats)


def _split(text: str, option: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise BenchError(
            f"{option} {text!r} names nothing; give one or more names, comma-separated"
        )
    return names


def command_line(sweep: Sweep) -> str:
    """The ``python -m bench run ...`` command that runs the same sweep without a file.

    Seeds that are not consecutive have no flag form; they are then left as a comment.
    """
    parts = ["python", "-m", "bench", "run"]
    parts += ["--all"] if sweep.models is None else ["--model", ",".join(sweep.models)]
    parts += ["--dataset", ",".join(sweep.datasets)]
    if sweep.backends != [DEFAULT_BACKEND]:
        parts += ["--backend", ",".join(sweep.backends)]
    seeds = sweep.seeds
    consecutive = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    if consecutive:
        parts += ["--seed", str(seeds[0])] + (["--repeats", str(len(seeds))] * (len(seeds) > 1))
    for pair in sweep.overrides:
        parts += ["--set", pair]
    switches = {o.flag: getattr(sweep, o.name) for o in OPTIONS if o.kind == "switch"}
    flags = {
        **switches,
        "--no-report": not sweep.report,
        "--robustness": sweep.robustness == OUR_CORRUPTIONS,
    }
    parts += [flag for flag, on in flags.items() if on]
    options = {
        **{o.flag: getattr(sweep, o.name) for o in OPTIONS if o.kind != "switch"},
        "--robustness-from": None if sweep.robustness == OUR_CORRUPTIONS else sweep.robustness,
        "--track": ",".join(sweep.track) or None,
    }
    for flag, value in options.items():
        if value is not None:
            parts += [flag, str(value)]
    text = shlex.join(parts)
    return text if consecutive else f"{text}  # seeds {seeds}: no flag form, use a sweep file"


def save_sweep(sweep: Sweep, run_ids: list[str], results_dir: Path) -> Path:
    """Write the resolved sweep to ``<results>/sweeps/<UTC time>-<hash>.json``; return the path.

    The file holds ``format``, ``created_at``, ``sweep`` (every resolved choice), ``command``
    (the equivalent command line), ``source`` and ``source_text`` (the sweep file and its text,
    or None) and ``run_ids`` (every run the sweep names, done before or not).
    """
    now = datetime.now(timezone.utc)
    payload: dict[str, Any] = {
        "format": SWEEP_FORMAT,
        "created_at": now.isoformat(),
        "sweep": sweep.to_dict(),
        "command": command_line(sweep),
        "source": None if sweep.source is None else str(sweep.source),
        "source_text": _source_text(sweep.source),
        "run_ids": list(run_ids),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:8]
    path = Path(results_dir) / SWEEPS_FOLDER / f"{now:%Y%m%dT%H%M%S}Z-{digest}.json"
    try:
        atomic_write_json(path, payload)
    except OSError as error:
        raise BenchError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def _source_text(source: Path | None) -> str | None:
    if source is None:
        return None
    try:
        return read_text(source, limit=SWEEP_FILE_LIMIT)
    except BenchError:
        return None
