"""``--models-from FILE.py``, shared by every command that looks models up by name.

A command adds the option with one line in its ``add_parser``::

    add_models_from_option(parser)

The file is loaded while the command line is parsed (before the handler runs), so every
later lookup (``--all``, ``list``, the report's model descriptions) sees its models; a
missing file, a syntax error or a file that registers nothing is a command-line error
(exit 2) that says which.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from bench.core.errors import BenchError

HELP = (
    "a Python file that registers models with @register_model (repeatable); "
    "it is imported by its path, no packaging needed"
)


class LoadModelFile(argparse.Action):
    """Loads the named model file as soon as the option is parsed; keeps the paths."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        from bench.models.user_files import load_model_file

        path = str(values)
        try:
            load_model_file(path)
        except BenchError as error:
            parser.error(str(error))
        paths = list(getattr(namespace, self.dest, None) or [])
        setattr(namespace, self.dest, [*paths, path])


def add_models_from_option(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` the ``--models-from FILE.py`` option (see the module notes)."""
    parser.add_argument(
        "--models-from",
        action=LoadModelFile,
        default=[],
        metavar="FILE.py",
        help=HELP,
    )
