"""Names vulture cannot see used (``vulture`` reads this file with ``bench/``; never imported).

Each line names one thing and who uses it.
"""

# ruff: noqa: B018, F821
# Keras calls a callback's hooks and reads its flags by name.
_.on_train_begin
_.on_epoch_begin
_.on_train_batch_end
_.on_epoch_end
_.async_safe
_.stop_training
# The classifier interface a wrapper keeps for scikit-learn callers (architectures/svm.py).
_.predict
# Framework switches set as attributes: torch.backends.cudnn.benchmark, JAX's enabled flag.
_.benchmark
_.enabled
# Signature parameters fixed by their callers: signal handlers, argparse actions, __exit__.
signum
option_string
exc_info
exc
# A dataset module's registration result, kept as its ENTRY for readers of the module.
ENTRY
# Read through vars() / asdict(): a published reference's fields, a history entry's fields.
test_error_pct
val_seconds
elapsed_train_seconds
elapsed_seconds
setup_seconds
first_step_seconds
first_step_samples
train_scored
# The run's own Python Random, for adapters and model code that want Python's API.
python
# Public helpers the tests use (IDX writing, reading stored probabilities, metrics helpers).
encode_idx
read_probabilities
calibration_metrics
label_metrics
brier
relative_corruption_error
unload_model_files
# Statistics fields reported by the comparison (issue 26 owns intervals.py).
seed_scale_a
seed_scale_b
p_floor
# ONNX Runtime reads its session options as attributes set on SessionOptions.
_.intra_op_num_threads
_.inter_op_num_threads
_.execution_mode
_.graph_optimization_level
_.log_severity_level
