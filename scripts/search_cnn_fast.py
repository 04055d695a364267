"""Tune cnn_fast, torch_cnn and torch_fast with `bench tune` (a thin wrapper; the equal-budget
search replaces this script's earlier staged search, in git history up to commit e4aa7fb and
described, with its test-set history, in docs/protocol.md and docs/speed.md).

Usage: python scripts/search_cnn_fast.py [DATASET] [extra bench tune options, e.g. --resume]
"""

from __future__ import annotations

import sys

from bench.cli import main

MODELS = "cnn_fast,torch_cnn,torch_fast"
TRIALS = "20"  # the equal budget of docs/protocol.md#tuning: 20 trials x 60 s
TRIAL_BUDGET = "60"

if __name__ == "__main__":
    dataset = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "mnist"
    extra = sys.argv[2:] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else sys.argv[1:]
    argv = ["tune", "--model", MODELS, "--dataset", dataset, "--trials", TRIALS]
    sys.exit(main([*argv, "--trial-budget", TRIAL_BUDGET, *extra]))
