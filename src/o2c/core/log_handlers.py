"""Log handlers named by the LOGGING setting."""

import logging
import sys


class StderrHandler(logging.StreamHandler):
    """Stream handler that writes each record to the current standard error.

    A plain StreamHandler keeps the stream it was given when logging was configured. When
    standard error is replaced later (by a test runner's capture, or by a command that
    configures logging again), that stream may be closed, and each record fails.
    """

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        """Ignore the stream set at construction: the current one is read for each record."""
