"""Subcommands of the ``bench`` CLI, in the order ``bench --help`` lists them."""

from bench.commands import data

COMMAND_MODULES = [data]
