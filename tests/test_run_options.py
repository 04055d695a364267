"""Each run option is declared once (bench/run/options.py): its flag, its sweep-file key, its
Sweep field and its RunSpec field agree, and a flag and a sweep-file key give the same run."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from bench.commands.run import add_parser
from bench.core.spec import RunSpec
from bench.run.options import OPTIONS, run_fields
from bench.run.sweep import KEYS, SHAPED_KEYS, Sweep, resolve_sweep

VALUES = {"switch": True, "count": 7, "text": "somewhere", "path": "elsewhere"}


def run_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser()
    add_parser(root.add_subparsers())
    return root


def test_flags_keys_sweep_fields_and_run_fields_agree():
    parser = run_parser()
    (run,) = [a for a in parser._subparsers._group_actions[0].choices.values()]
    flags = {s: a.dest for a in run._actions for s in a.option_strings}
    sweep_fields = {f.name for f in dataclasses.fields(Sweep)}
    spec_fields = {f.name for f in dataclasses.fields(RunSpec)}
    for option in OPTIONS:
        assert flags[option.flag] == option.name
        assert KEYS[option.name] == option.requirement
        assert option.name in sweep_fields
        assert (option.name in spec_fields) == option.in_run, option.name
    assert set(KEYS) == set(SHAPED_KEYS) | {o.name for o in OPTIONS}
    shared = (sweep_fields & spec_fields) - {"robustness"}  # --robustness / --robustness-from
    assert shared == {o.name for o in OPTIONS if o.in_run}


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_a_flag_and_a_sweep_file_key_give_the_same_sweep(option, tmp_path):
    value = VALUES[option.kind]
    flag = [option.flag] if option.kind == "switch" else [option.flag, str(value)]
    from_flag = resolve_sweep(run_parser().parse_args(["run", "--model", "logreg", *flag]))
    text = "true" if value is True else (f'"{value}"' if isinstance(value, str) else value)
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(f'models = ["logreg"]\n{option.name} = {text}\n')
    args = run_parser().parse_args(["run", "--config", str(sweep_file)])
    from_file = resolve_sweep(args)
    expected = Path(value) if option.kind == "path" else value
    assert getattr(from_flag, option.name) == getattr(from_file, option.name) == expected
    default = resolve_sweep(run_parser().parse_args(["run", "--model", "logreg"]))
    assert getattr(default, option.name) == option.default


def test_a_runs_fields_come_from_the_sweep():
    args = run_parser().parse_args(["run", "--model", "logreg", "--limit-train", "9"])
    fields = run_fields(resolve_sweep(args))
    assert fields == {
        "limit_train": 9,
        "limit_test": None,
        "deterministic": False,
        "data_dir": None,
        "save_model": False,
    }
