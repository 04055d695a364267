"""The recommendation per dataset: which models are tied for best, and which of them to pick.

Pure: built from the summary, the pairwise tests, time to accuracy, calibration and the
reliability bins of :mod:`bench.results.report.aggregate`; the leaderboard's verdicts and the
dashboard's recommendation cards both read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.measure.metrics import METRICS

ECE_NOTE_FROM = 0.05
"""A model tied for best whose ECE is at least this gets a note saying which way it is off."""

RECOMMENDATION_COLUMNS = [
    "dataset",
    "race",
    "best",
    "tied",
    "target",
    "fastest",
    "fastest_s",
    "best_calibrated",
    "best_ece",
    "chance",
    "notes",
]


def recommendation_frame(
    summary: pd.DataFrame,
    pairwise: pd.DataFrame,
    tta: pd.DataFrame,
    calibration: pd.DataFrame,
    reliability: Mapping[str, Mapping[str, Mapping[str, list]]],
    races: Mapping[tuple[str, str], Sequence[str]],
) -> pd.DataFrame:
    """One row per (dataset, race) of ``races``, every choice made within the race.

    ``tied``: the most accurate model that is not at chance level, and every model whose test
    against it gave no verdict (the difference is below what the runs resolve). ``fastest``:
    the tied model with the shortest median time to the highest target that every seed of
    some tied model reached. ``best_calibrated``: the tied model with the lowest ECE.
    ``chance``: models whose accuracy is within the interval of guessing. ``notes``: tied
    models far from calibrated (ECE at least :data:`ECE_NOTE_FROM`), and which way.
    """
    rows = []
    for (dataset, race), labels in races.items():
        chance = [m for m in labels if bool(summary.at[(dataset, m), "chance"])]
        usable = [m for m in labels if m not in chance]
        row: dict[str, Any] = dict.fromkeys(RECOMMENDATION_COLUMNS)
        row.update(dataset=dataset, race=race, tied=[], chance=chance, notes=[])
        if usable:
            best = usable[0]
            tied = [best, *_not_told_apart(pairwise, dataset, best, usable[1:])]
            row.update(best=best, tied=tied)
            row.update(_fastest(tta, dataset, tied))
            row.update(_calibrated(calibration, dataset, tied))
            row["notes"] = _calibration_notes(summary, reliability, dataset, tied)
        rows.append(row)
    return pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)


def _not_told_apart(
    pairwise: pd.DataFrame, dataset: str, best: str, others: Sequence[str]
) -> list[str]:
    """The models among ``others`` whose test against ``best`` named no better model."""
    tests = pairwise[(pairwise["dataset"] == dataset) & (pairwise["model_a"] == best)]
    verdict = dict(zip(tests["model_b"], tests["better"], strict=True))
    return [m for m in others if m in verdict and not _given(verdict[m])]


def _given(value: Any) -> bool:
    """False for None and NaN (pandas stores a missing label in a string column as NaN)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _fastest(tta: pd.DataFrame, dataset: str, tied: Sequence[str]) -> dict[str, Any]:
    done = tta[
        (tta["dataset"] == dataset) & tta["model"].isin(tied) & (tta["reached"] == tta["n_seeds"])
    ]
    if done.empty:
        return {}
    target = done["target"].max()
    first = done[done["target"] == target].sort_values(["median_s", "model"]).iloc[0]
    return {"target": float(target), "fastest": first["model"], "fastest_s": first["median_s"]}


def _calibrated(calibration: pd.DataFrame, dataset: str, tied: Sequence[str]) -> dict[str, Any]:
    part = calibration[
        (calibration["dataset"] == dataset)
        & calibration["model"].isin(tied)
        & calibration["ece"].notna()
    ]
    if part.empty:
        return {}
    first = best_on(part, "ece")
    return {"best_calibrated": first["model"], "best_ece": float(first["ece"])}


def best_on(frame: pd.DataFrame, metric: str) -> pd.Series:
    """The row of ``frame`` best on ``metric`` in the direction the metric declares
    (``higher_is_better``), ties broken by model name."""
    higher = METRICS.get(metric).higher_is_better
    return frame.sort_values([metric, "model"], ascending=[not higher, True]).iloc[0]


def _calibration_notes(
    summary: pd.DataFrame,
    reliability: Mapping[str, Mapping[str, Mapping[str, list]]],
    dataset: str,
    tied: Sequence[str],
) -> list[dict[str, Any]]:
    notes = []
    for model in tied:
        row = summary.loc[(dataset, model)]
        ece = row.get("ece", np.nan)
        if pd.isna(ece) or ece < ECE_NOTE_FROM:
            continue
        notes.append(
            {
                "model": model,
                "ece": float(ece),
                "side": confidence_side(reliability.get(dataset, {}).get(model)),
                "label_smoothing": float(row["label_smoothing"]),
            }
        )
    return notes


def note_sentences(notes: Sequence[Mapping[str, Any]]) -> list[str]:
    """The calibration notes as sentences, models that are off the same way (and for the
    same reason) in one: "a, b are underconfident (ECE 10.06–10.15%), an effect of their
    label smoothing (0.1)"."""
    groups: dict[tuple[str, float], list[Mapping[str, Any]]] = {}
    for note in notes:
        smoothing = note["label_smoothing"] if note["side"] == "underconfident" else 0.0
        groups.setdefault((note["side"], smoothing), []).append(note)
    sentences = []
    for (side, smoothing), group in groups.items():
        names = ", ".join(n["model"] for n in group)
        low, high = min(n["ece"] for n in group), max(n["ece"] for n in group)
        spread = f"{low:.2%}" if low == high else f"{100 * low:.2f}–{high:.2%}"
        verb = "is" if len(group) == 1 else "are"
        text = f"{names} {verb} {side or 'far from calibrated'} (ECE {spread})"
        if smoothing:
            whose = "its" if len(group) == 1 else "their"
            text += f", an effect of {whose} label smoothing ({smoothing:.2g})"
        sentences.append(text)
    return sentences


def confidence_side(bins: Mapping[str, list] | None) -> str:
    """ "underconfident" when the mean top-class confidence lies below the accuracy,
    "overconfident" when above, "" without bins."""
    if not bins or not bins.get("counts"):
        return ""
    counts = np.asarray(bins["counts"], dtype=np.float64)
    accuracy = np.asarray([a or 0.0 for a in bins["accuracy"]], dtype=np.float64)
    confidence = np.asarray([c or 0.0 for c in bins["confidence"]], dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return ""
    gap = float((counts * (confidence - accuracy)).sum() / total)
    return "underconfident" if gap < 0 else "overconfident"
