"""Subcommands of the ``bench`` CLI, in the order ``bench --help`` lists them."""

from bench.commands import (
    benchmarks,
    compare,
    data,
    diff,
    export,
    export_model,
    listing,
    predict,
    report,
    run,
    tune,
)

COMMAND_MODULES = [
    run,
    tune,
    report,
    compare,
    diff,
    export,
    export_model,
    predict,
    benchmarks,
    listing,
    data,
]
