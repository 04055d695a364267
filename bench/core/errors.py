"""The one exception type the CLI turns into a clear message instead of a traceback."""


class BenchError(Exception):
    """A problem the user can fix; its message says what went wrong and how to fix it.

    The command exits with :attr:`exit_code`: 2, bad input found before anything trained.
    """

    exit_code = 2


class AfterTrainingError(BenchError):
    """A problem found after runs had trained (a record or the leaderboard could not be
    written, the cluster went away): exit code 3, so that 2 always means nothing trained."""

    exit_code = 3
