"""What ``bench tune`` says about a finished study, and the search's own spread over seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bench.results.store.tuned import TUNING_FOLDER
from bench.tune.budget import Budget
from bench.tune.study import StudyResult


def study_lines(result: StudyResult, budget: Budget) -> list[str]:
    """A few lines: trials by state, the budget against what the trials cost, the best."""
    n = len(result.trials)
    cost = result.train_seconds()
    lines = [
        f"study {result.name}: {n} trials ({result.count('COMPLETE')} complete, "
        f"{result.count('PRUNED')} pruned, {result.count('FAIL')} failed)",
        f"  budget {budget.describe()} = {budget.trials * budget.trial_seconds:,.0f} s of training "
        f"at most; spent {cost:,.0f} s ({cost / max(1, n):.1f} s per trial)",
    ]
    over = sum(1 for t in result.trials if t.user_attrs.get("over_budget"))
    if over:
        lines.append(f"  {over} trial(s) ran past the cap (one fit call that cannot be stopped)")
    if result.best is not None:
        params = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in sorted(result.best.params.items())
        )
        lines.append(
            f"  best: trial {result.best.number}, validation accuracy "
            f"{result.best.value:.4f}: {params}"
        )
    return lines


def search_spread(results_dir: Path, dataset: str, models: list[str]) -> pd.DataFrame:
    """Per model: how many search seeds have a tuned preset on ``dataset``, and the lowest and
    highest best validation accuracy among them (the search's own variance)."""
    rows = []
    folder = Path(results_dir) / TUNING_FOLDER / dataset
    for model in models:
        values = []
        for path in sorted(folder.glob(f"{model}.json")) + sorted(
            folder.glob(f"{model}--search*.json")
        ):
            try:
                values.append(
                    float(json.loads(path.read_text(encoding="utf-8"))["best_val_accuracy"])
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        if values:
            rows.append(
                {"model": model, "seeds": len(values), "min": min(values), "max": max(values)}
            )
    return pd.DataFrame(rows, columns=["model", "seeds", "min", "max"])
