"""The one exception type the CLI turns into a clear message instead of a traceback."""


class BenchError(Exception):
    """A problem the user can fix; its message says what went wrong and how to fix it."""
