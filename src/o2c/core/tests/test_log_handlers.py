"""The console log handler follows standard error when it is replaced."""

import io
import logging
import sys

from o2c.core.log_handlers import StderrHandler


def test_handler_writes_to_current_stderr(monkeypatch):
    handler = StderrHandler()
    logger = logging.getLogger("o2c.tests.stderr_handler")
    logger.addHandler(handler)
    logger.propagate = False
    first, second = io.StringIO(), io.StringIO()
    try:
        monkeypatch.setattr(sys, "stderr", first)
        logger.warning("first record")
        first.close()
        monkeypatch.setattr(sys, "stderr", second)
        logger.warning("second record")
    finally:
        logger.removeHandler(handler)

    assert second.getvalue() == "second record\n"


def test_console_handler_is_configured():
    handlers = logging.getLogger("o2c").handlers
    assert any(isinstance(handler, StderrHandler) for handler in handlers)
