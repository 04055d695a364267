"""Whether a model's results depend on the seed: decided once, here, for the report, the
pairwise comparison and the export.

"Deterministic" means two things in this project, and they are named apart:

* **seed-independent** (this module): every seed gives the same predictions, because the model's
  registration says so (``deterministic=True``: k-NN, an SVM) or because several of its runs
  made exactly the same predictions. Its seeds are one observation, not several.
* **deterministic kernels** (``RunSpec.deterministic``, ``--deterministic``): the framework was
  asked for reproducible kernels, so the same seed gives the same numbers again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bench.results.store.record import RunRecord


def seed_independent(runs: Sequence[RunRecord]) -> bool:
    """True when ``runs`` (one model on one dataset) do not depend on the seed: the model is
    registered as deterministic, or several runs made exactly the same predictions."""
    if runs and all(bool(r.model_info.get("deterministic")) for r in runs):
        return True
    return len(runs) > 1 and all(r.predictions == runs[0].predictions for r in runs[1:])


def seed_independent_groups(records: Sequence[RunRecord]) -> set[tuple[str, str]]:
    """The (dataset, label) pairs of ``records`` whose runs are :func:`seed_independent`."""
    groups: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    for record in records:
        groups[(record.dataset, record.label)].append(record)
    return {key for key, runs in groups.items() if seed_independent(runs)}
