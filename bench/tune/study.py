"""One search: a model, a dataset, a search seed; Optuna asks, our executors train, Optuna is told.

The study lives in ``<results>/tuning/studies.sqlite3`` under the name
``<dataset>--<model>--search<K>``; every told trial is committed there at once, so Ctrl-C loses
no finished trial and ``--resume`` continues the study (a trial that was running when the
command stopped is marked failed). The study's settings (space, budget, sampler, pruner, model
code, training subset) are stored with it; resuming with other settings is refused.

Each trial is a run (:class:`~bench.run.spec.RunSpec` with ``tuning`` set): it trains on the
training split, is checked and scored on the validation split only, and its record goes to
``<results>/tuning/<dataset>/<model>/runs/``. Trials are asked in batches as large as the
executor's training slots (one at a time in this process) and go through the run executors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.core.spec import RunSpec
from bench.models.registry import get_model
from bench.models.space import space_dict, space_hash
from bench.models.spec import ModelSpec
from bench.models.user_files import model_file
from bench.results.store.record import RunRecord
from bench.results.store.tuned import TUNING_FOLDER
from bench.run.fingerprint import model_fingerprint
from bench.run.trial import PRUNERS, TrialPlan, make_pruner
from bench.tune.budget import Budget
from bench.tune.pruning import plan_history, tell_record
from bench.tune.spaces import checked_space, distributions, trial_config

SAMPLERS = ("tpe", "random")
STORAGE_FILE = "studies.sqlite3"
SETTINGS_ATTR = "bench_settings"
Progress = Callable[[str], None]
BatchRunner = Callable[[list[RunSpec], Path], list[RunRecord]]


@dataclass(frozen=True)
class StudySettings:
    """What defines one study: the same settings give the same search."""

    model: str
    dataset: str
    budget: Budget
    sampler: str = "tpe"
    pruner: str = "median"
    search_seed: int = 0
    limit_train: int | None = None
    data_dir: str | None = None

    @property
    def name(self) -> str:
        """The study's name in the storage."""
        return f"{self.dataset}--{self.model}--search{self.search_seed}"

    def identity(self, spec: ModelSpec) -> dict[str, Any]:
        """What a resumed study must share with the one stored (``--trials`` may grow)."""
        return {
            "space_hash": space_hash(spec.space),
            "trial_seconds": self.budget.trial_seconds,
            "milestones": self.budget.milestones,
            "sampler": self.sampler,
            "pruner": self.pruner,
            "code_fingerprint": model_fingerprint(spec),
            "limit_train": self.limit_train,
        }


def storage_url(results_dir: Path) -> str:
    """The SQLite URL of the studies of ``results_dir``."""
    folder = Path(results_dir) / TUNING_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / STORAGE_FILE).resolve()}"


def trials_dir(results_dir: Path, dataset: str, model: str) -> Path:
    """Where the trial records of ``model`` on ``dataset`` are written (``runs/`` inside)."""
    return Path(results_dir) / TUNING_FOLDER / dataset / model


def make_sampler(name: str, seed: int) -> Any:
    """Optuna's TPE (its defaults: 10 random trials first) or random sampler, seeded."""
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise BenchError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")


def sampler_seed(search_seed: int, trials_so_far: int) -> int:
    """The sampler's seed for a (re)start after ``trials_so_far`` trials: a resumed study does
    not replay the random draws it has already used."""
    text = f"{search_seed}:{trials_so_far}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def check_start(
    settings: StudySettings, spec: ModelSpec, results_dir: Path, resume: bool, restart: bool
) -> None:
    """Refuse, before any training, a study that exists without ``--resume``/``--restart``, or
    one ``--resume`` would continue with other settings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_url(results_dir)
    existing = {s.study_name: s for s in optuna.get_all_study_summaries(url)}
    summary = existing.get(settings.name)
    if summary is None or restart:
        return
    if not resume:
        raise BenchError(
            f"study {settings.name} already exists with {summary.n_trials} trial(s) in {url}; "
            "pass --resume to continue it, or --restart to discard it and search again"
        )
    identity = settings.identity(spec)
    stored = (summary.user_attrs.get(SETTINGS_ATTR) or {}).get("identity", {})
    changed = sorted(k for k in identity if stored.get(k) != identity[k])
    if changed:
        what = ", ".join(f"{k}: {stored.get(k)!r} then, {identity[k]!r} now" for k in changed)
        raise BenchError(
            f"--resume: study {settings.name} was made with other settings ({what}); resume it "
            "with the same ones, or start a new study with --restart or another --search-seed"
        )


def open_study(
    settings: StudySettings, spec: ModelSpec, results_dir: Path, resume: bool, restart: bool
) -> Any:
    """Create the study, or load it for ``--resume`` (see :func:`check_start`)."""
    import optuna

    check_start(settings, spec, results_dir, resume, restart)
    url = storage_url(results_dir)
    if restart and settings.name in {s.study_name for s in optuna.get_all_study_summaries(url)}:
        optuna.delete_study(study_name=settings.name, storage=url)
    study = optuna.create_study(
        study_name=settings.name,
        storage=url,
        direction="maximize",
        load_if_exists=True,
        pruner=make_pruner(settings.pruner, settings.budget.milestones),
    )
    study.set_user_attr(
        SETTINGS_ATTR,
        {
            "identity": settings.identity(spec),
            "space": space_dict(spec.space),
            "budget": settings.budget.to_dict(),
            "search_seed": settings.search_seed,
            "model": settings.model,
            "dataset": settings.dataset,
        },
    )
    _fail_leftover_trials(study)
    seed = sampler_seed(settings.search_seed, len(study.trials))
    study.sampler = make_sampler(settings.sampler, seed)
    return study


def _fail_leftover_trials(study: Any) -> None:
    """Mark failed the trials an interrupted command left running (their records never came)."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        study.tell(trial.number, state=TrialState.FAIL)


def trial_run(
    settings: StudySettings, spec: ModelSpec, trial: Any, history: list[dict[str, Any]]
) -> RunSpec:
    """The run of ``trial``: its sampled config, the validation protocol, its plan."""
    plan = TrialPlan(
        study=settings.name,
        number=trial.number,
        budget_seconds=settings.budget.trial_seconds,
        pruner=settings.pruner,
        milestones=settings.budget.milestones,
        history=history,
    )
    return RunSpec(
        model=spec.name,
        preset=f"trial{trial.number}",
        dataset=settings.dataset,
        seed=settings.search_seed,
        config=trial_config(spec, trial.params),
        limit_train=settings.limit_train,
        data_dir=settings.data_dir,
        code_fingerprint=model_fingerprint(spec),
        models_from=model_file(spec.name),
        tuning=plan.to_dict(),
    )


@dataclass
class StudyResult:
    """How a search went: its trials by state and the best one."""

    name: str
    trials: list[Any]
    best: Any | None

    def count(self, state: str) -> int:
        """Trials in ``state`` (``COMPLETE``, ``PRUNED``, ``FAIL``)."""
        return sum(1 for t in self.trials if t.state.name == state)

    def train_seconds(self) -> float:
        """Training seconds summed over every trial (the search's actual cost)."""
        return float(sum(t.user_attrs.get("train_seconds") or 0.0 for t in self.trials))


def run_study(
    settings: StudySettings,
    results_dir: Path,
    run_batch: BatchRunner,
    batch_size: int = 1,
    *,
    resume: bool = False,
    restart: bool = False,
    say: Progress = print,
    on_trial: Callable[[Any, RunRecord], None] | None = None,
) -> StudyResult:
    """Search until the study holds ``settings.budget.trials`` finished trials.

    ``run_batch(runs, folder)`` trains a batch of trial runs and returns their records (an
    executor); ``on_trial(trial, record)`` is called after each trial is told (trackers).
    """
    from optuna.trial import TrialState

    if settings.pruner not in PRUNERS:
        raise BenchError(f"unknown pruner {settings.pruner!r}; choose one of {', '.join(PRUNERS)}")
    spec = get_model(settings.model)
    space = checked_space(spec)
    study = open_study(settings, spec, results_dir, resume, restart)
    dists = distributions(space)
    folder = trials_dir(results_dir, settings.dataset, settings.model)
    while len(study.trials) < settings.budget.trials:
        size = min(batch_size, settings.budget.trials - len(study.trials))
        asked = [study.ask(dists) for _ in range(size)]
        history = plan_history(study)
        runs = [trial_run(settings, spec, trial, history) for trial in asked]
        by_id = {run.run_id: trial for run, trial in zip(runs, asked, strict=True)}
        for record in run_batch(runs, folder):
            trial = by_id.pop(record.run_id)
            state = tell_record(study, trial, record)
            if on_trial is not None:
                on_trial(study.trials[trial.number], record)
            say(f"  {settings.name} trial {trial.number}: {state.lower()}")
        for trial in by_id.values():  # a record that never came back
            study.tell(trial, state=TrialState.FAIL)
    return result_of(study)


def result_of(study: Any) -> StudyResult:
    """The finished study's trials and best trial (None when no trial completed)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: (t.value, -t.number)) if complete else None
    return StudyResult(study.study_name, list(trials), best)
