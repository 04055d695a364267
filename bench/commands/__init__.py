"""Subcommands of the ``bench`` CLI, in the order ``bench --help`` lists them."""

from bench.commands import benchmarks, compare, data, diff, export, listing, report, run, tune

COMMAND_MODULES = [run, tune, report, compare, diff, export, benchmarks, listing, data]
