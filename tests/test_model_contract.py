"""The model contract: every registered model, built-in or from ``--models-from``, passes the
same checks, in the spirit of scikit-learn's ``parametrize_with_checks``.

For each model: every field its ``register_model`` call declares reaches its spec unchanged;
every range it (or its family, or the harness) declares refuses an out-of-range ``--set`` with
exit 2 before training; it trains and predicts on digits, or says why it cannot (images
smaller than its ``min_image_size``); a model declared deterministic predicts the same for
every seed, and a seeded scikit-learn or PyTorch model the same for the same seed; its
robustness subset is the one its runs score; its fingerprint changes when its code changes.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import bench.models.registry as model_registry
from bench.cli import main
from bench.models.family import FAMILIES
from bench.models.params import HARNESS_RULES, Param
from bench.models.registry import (
    REGISTRY,
    declared_robustness_subsets,
    get_model,
    list_models,
    register_model,
)
from bench.models.spec import ModelSpec
from bench.models.user_files import load_model_file, unload_model_files
from bench.results.store.files import load_records
from bench.results.store.stale import split_by_definition
from bench.run.fingerprint import model_fingerprint
from bench.run.selection import build_runs
from bench.run.trainer import execute_run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_FILE = ROOT / "examples" / "naive_bayes.py"
DIGITS_SIDE = 8
TRAIN_IMAGES = "600"
# Fields a registration derives rather than declares.
DERIVED_FIELDS = {"name", "build", "description", "rules"}


def _example_models() -> list[str]:
    try:
        return load_model_file(EXAMPLE_FILE)
    finally:
        unload_model_files()


EXAMPLE_MODELS = _example_models()
BUILTIN_MODELS = list_models()
MODELS = [*BUILTIN_MODELS, *EXAMPLE_MODELS]
# Over 10 s per digits run on 2 busy cores (the speed measurements included): slow-marked in
# the training checks, which still run them in CI (``pytest`` runs slow tests too).
SLOW_TO_TRAIN = {"cnn_fast", "knn", "random_forest", "svm_rbf_pca", "torch_cnn", "torch_fast"}


def with_slow(names: list[str]) -> list[Any]:
    """``names`` as parameters, the slow-to-train ones marked ``slow``."""
    return [
        pytest.param(n, marks=pytest.mark.slow) if n in SLOW_TO_TRAIN else pytest.param(n)
        for n in names
    ]


@pytest.fixture(autouse=True)
def _forget_model_files():
    yield
    unload_model_files()


def spec_of(name: str) -> ModelSpec:
    """The registered spec of ``name``, loading the example file for its models."""
    if name in EXAMPLE_MODELS:
        load_model_file(EXAMPLE_FILE)
    return get_model(name)


def models_from(name: str) -> list[str]:
    return ["--models-from", str(EXAMPLE_FILE)] if name in EXAMPLE_MODELS else []


def source_file(spec: ModelSpec) -> Path:
    return Path(inspect.getfile(spec.build))


def declarations(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """Builder name -> the keywords of its ``register_model`` call, read by executing the file
    again with a ``register_model`` that only records (the registry is not touched)."""
    recorded: dict[str, dict[str, Any]] = {}

    def recording(**declared: Any):
        def decorator(builder):
            recorded[builder.__name__] = declared
            return builder

        return decorator

    monkeypatch.setattr(model_registry, "register_model", recording)
    module = types.ModuleType("contract_probe")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    try:
        exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    finally:
        sys.modules.pop(module.__name__, None)
    return recorded


def same_value(declared: Any, registered: Any) -> bool:
    """Equal values; functions (defined again by the probe) equal by name and bytecode."""
    if inspect.isfunction(declared) and inspect.isfunction(registered):
        return (declared.__qualname__, declared.__code__.co_code) == (
            registered.__qualname__,
            registered.__code__.co_code,
        )
    return declared == registered


def test_every_declarable_field_is_a_register_model_keyword():
    keywords = set(inspect.signature(register_model).parameters)
    fields = {f.name for f in dataclasses.fields(ModelSpec)}
    assert keywords == fields - DERIVED_FIELDS


@pytest.mark.parametrize("name", MODELS)
def test_declared_fields_survive_registration(name, monkeypatch):
    spec = spec_of(name)
    declared = declarations(source_file(spec), monkeypatch)[name]
    defaults = inspect.signature(register_model).parameters
    family = FAMILIES.get(spec.family)
    for key in defaults:
        value = declared.get(key, defaults[key].default)
        if key == "config":
            plain = {k: v.default if isinstance(v, Param) else v for k, v in value.items()}
            assert dict(spec.config) == {**family.defaults, **plain}
            ranges = {k: v for k, v in value.items() if isinstance(v, Param)}
            assert {k: spec.rules[k] for k in ranges} == ranges
        elif key == "presets":
            assert {k: dict(v) for k, v in spec.presets.items()} == dict(value or {})
        elif key == "space":
            assert dict(spec.space) == dict(value or {})
        else:
            assert same_value(value, getattr(spec, key)), f"{name}: {key} changed on the way"


def _outside(rule: Param, default: Any) -> list[Any]:
    """Values just outside ``rule``, typed like ``default``."""
    values: list[Any] = []
    if rule.choices is not None:
        numbers = [c for c in rule.choices if isinstance(c, (int, float))]
        values.append(max(numbers) + 1 if numbers else "not_a_choice")
    if rule.minimum is not None:
        values.append(rule.minimum - 1)
    if rule.maximum is not None:
        values.append(rule.maximum + 1)
    return [type(default)(v) if isinstance(default, (int, float)) else v for v in values]


def _range_cases() -> list[Any]:
    cases = []
    for name in MODELS:
        spec = spec_of(name)
        family_rules = FAMILIES.get(spec.family).config_rules
        for key, default in spec.config.items():
            rule = next(
                (r[key] for r in (spec.rules, family_rules, HARNESS_RULES) if key in r), None
            )
            for value in _outside(rule, default) if rule else []:
                cases.append(pytest.param(name, key, value, id=f"{name}-{key}={value}"))
    unload_model_files()
    return cases


@pytest.mark.parametrize(("name", "key", "value"), _range_cases())
def test_declared_ranges_refuse_values_outside_before_training(
    name, key, value, tmp_path, bench_home, capsys
):
    argv = ["run", "--model", name, "--dataset", "digits", "--set", f"{key}={value}"]
    code = main([*argv, *models_from(name), "--no-report", "--results-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{key}=" in err and any(w in err for w in ("minimum", "maximum", "not one of"))
    assert load_records(tmp_path) == [], "nothing trained"


def test_the_issue_example_is_refused(tmp_path, bench_home, capsys):
    argv = ["run", "--model", "naive_bayes", "--dataset", "digits", "--set", "var_smoothing=-1"]
    assert main([*argv, "--models-from", str(EXAMPLE_FILE), "--results-dir", str(tmp_path)]) == 2
    assert "var_smoothing=-1.0 is below its minimum 0" in capsys.readouterr().err


def _tiny(spec: ModelSpec) -> list[str]:
    """``--set`` pairs that keep a run CI-sized: one epoch where the model has epochs."""
    return ["--set", f"{spec.name}.epochs=1"] if "epochs" in spec.config else []


@pytest.mark.parametrize("name", with_slow(MODELS))
def test_trains_and_predicts_on_digits_or_says_why_not(name, tmp_path, bench_home, capsys):
    spec = spec_of(name)
    if not FAMILIES.get(spec.family).installed():
        pytest.skip(f"{spec.family} is not installed")
    argv = ["run", "--model", name, "--dataset", "digits", "--quick", "--limit-train"]
    argv += [TRAIN_IMAGES, *_tiny(spec), *models_from(name)]
    code = main([*argv, "--no-report", "--results-dir", str(tmp_path)])
    if spec.min_image_size is not None and spec.min_image_size > DIGITS_SIDE:
        assert code == 2, "refused before training"
        side = spec.min_image_size
        assert f"needs images of at least {side}x{side} pixels" in capsys.readouterr().err
        assert load_records(tmp_path) == []
        return
    assert code == 0
    (record,) = load_records(tmp_path)
    assert record.ok, record.error
    assert len(record.predictions) == record.n_test == 450
    assert record.metrics["accuracy"] > 0.2, "above chance (0.1) on ten classes, one epoch"
    assert record.history, "every family records its epochs"


def _runnable_on_digits(name: str) -> bool:
    spec = spec_of(name)
    small = spec.min_image_size is not None and spec.min_image_size > DIGITS_SIDE
    return FAMILIES.get(spec.family).installed() and not small


def _digits_run(name: str, seed: int, deterministic: bool = False):
    spec = spec_of(name)
    overrides = ["epochs=1"] if "epochs" in spec.config else []
    (run,) = build_runs(
        [name], ["digits"], [0], overrides, quick=True, limit_train=int(TRAIN_IMAGES)
    )
    return dataclasses.replace(run, seed=seed, deterministic=deterministic)


DECLARED_DETERMINISTIC = [n for n in MODELS if spec_of(n).deterministic]
unload_model_files()


@pytest.mark.parametrize("name", with_slow(DECLARED_DETERMINISTIC))
def test_declared_deterministic_models_predict_the_same_for_every_seed(name, bench_home):
    first, second = (execute_run(_digits_run(name, seed)) for seed in (0, 1))
    assert first.ok and second.ok
    assert first.predictions == second.predictions


SEEDED = [n for n in MODELS if spec_of(n).family in ("sklearn", "torch")]
unload_model_files()


@pytest.mark.parametrize("name", with_slow(SEEDED))
def test_the_same_seed_gives_the_same_predictions(name, bench_home):
    if not _runnable_on_digits(name):
        pytest.skip(f"{name} cannot train on digits here")
    first, second = (execute_run(_digits_run(name, 3, deterministic=True)) for _ in range(2))
    assert first.ok and second.ok, (first.error, second.error)
    assert first.predictions == second.predictions
    assert first.probability_arrays["test"].tolist() == second.probability_arrays["test"].tolist()


@pytest.mark.parametrize("name", MODELS)
def test_the_declared_robustness_subset_is_part_of_the_run(name, bench_home):
    spec = spec_of(name)
    (plain,) = build_runs([name], ["digits"], [0])
    (scored,) = build_runs([name], ["digits"], [0], robustness="ours")
    assert plain.robustness_subset is None
    assert scored.robustness_subset == spec.robustness_subset
    if spec.robustness_subset is not None:
        other = dataclasses.replace(scored, robustness_subset=None)
        assert other.run_id != scored.run_id, "scored on other images: another run"


def test_the_example_model_scores_its_subset_of_every_corrupted_set(tmp_path, bench_home):
    spec = spec_of("naive_bayes")
    argv = ["run", "--model", "naive_bayes", "--dataset", "digits", "--robustness"]
    assert (
        main([*argv, *models_from("naive_bayes"), "--no-report", "--results-dir", str(tmp_path)])
        == 0
    )
    (record,) = load_records(tmp_path)
    assert record.robustness["subset"] == spec.robustness_subset == 200 < record.n_test
    assert {s["n"] for s in record.robustness["corruptions"].values()} == {200}


def test_records_scored_on_other_images_are_stale_and_rerun(tmp_path, bench_home):
    argv = ["run", "--model", "naive_bayes", "--dataset", "digits", "--robustness"]
    main([*argv, *models_from("naive_bayes"), "--no-report", "--results-dir", str(tmp_path)])
    (record,) = load_records(tmp_path)
    # as the records of knn and svm_rbf_pca made before their subset reached the registry
    old = dataclasses.replace(record, run=dataclasses.replace(record.run, robustness_subset=None))
    declared = declared_robustness_subsets()
    current, stale = split_by_definition([old, record], declared)
    assert current == [record]
    assert [s.reason for s in stale] == [
        "robustness scored on every test image, but naive_bayes declares a subset of 200 "
        "images; rerun it (bench run --resume does)"
    ]
    assert old.run_id != record.run_id, "--resume does not count the old record as done"


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in BUILTIN_MODELS if get_model(n).robustness_subset])
def test_builtin_subsets_are_scored_on_mnist(name, mnist_mirror, tmp_path, bench_home, monkeypatch):
    monkeypatch.setenv("MNIST_BENCH_MIRROR", str(mnist_mirror))
    argv = ["run", "--model", name, "--dataset", "mnist", "--robustness", "--limit-train", "1000"]
    assert main([*argv, "--no-report", "--results-dir", str(tmp_path)]) == 0
    (record,) = load_records(tmp_path)
    subset = get_model(name).robustness_subset
    assert {s["n"] for s in record.robustness["corruptions"].values()} == {subset}


def _with_statement_in(path: Path, function: str) -> str:
    """The text of ``path`` with a ``pass`` statement added at the top of ``function``'s body."""
    lines = path.read_text().splitlines(keepends=True)
    node = next(
        n
        for n in ast.walk(ast.parse("".join(lines)))
        if isinstance(n, ast.FunctionDef) and n.name == function
    )
    first = node.body[0]
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}pass\n")
    return "".join(lines)


@pytest.mark.parametrize("name", MODELS)
def test_the_fingerprint_changes_when_the_model_code_changes(name, tmp_path):
    spec = spec_of(name)
    original = source_file(spec)
    siblings = {
        n: get_model(n)
        for n in REGISTRY.names()
        if get_model(n).build.__module__ == spec.build.__module__
    }
    copy = tmp_path / f"contract_{original.stem}.py"
    shutil.copyfile(original, copy)
    for sibling in siblings:  # the copy registers the same names
        REGISTRY.remove(sibling)
    try:
        load_model_file(copy)
        before = model_fingerprint(get_model(name))
        copy.write_text(_with_statement_in(copy, name))
        load_model_file(copy)
        assert model_fingerprint(get_model(name)) != before
    finally:
        unload_model_files()
        for sibling, sibling_spec in siblings.items():
            if sibling not in EXAMPLE_MODELS:  # the example file's own are unloaded
                REGISTRY.add(sibling, sibling_spec, replace=True)
