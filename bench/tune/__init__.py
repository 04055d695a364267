"""``bench tune``: every model tuned by the harness itself, at one equal budget, on the
validation split only.

A study is an Optuna ask-and-tell search per (model, dataset, search seed), stored in SQLite
under ``results/tuning/``: :mod:`.spaces` turns a model's declared space into Optuna
distributions and trial configs; :mod:`.budget` holds the equal budget (trials, training
seconds per trial); :mod:`.pruning` hands the study's state to each trial and replays the
trial's reports into the study; :mod:`.study` runs the search, batch by batch, through the
run executors (every trial is a run, recorded with protocol ``tuning``); :mod:`.preset`
writes the outcome as the preset ``MODEL:tuned``; :mod:`.report` sums a study up. The report's
race data and figure are in ``bench.results.report.frames_tuning`` and ``.tuning_figures``.
"""
