"""The somstack log as a test reads it: the messages written while a block runs."""

import logging
from contextlib import contextmanager


@contextmanager
def logged(name="somstack"):
    """Yields a list that the messages of logger ``name`` (and its children) at INFO and above
    fill as they are written, from any thread, until the block ends."""
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger, handler = logging.getLogger(name), Collect()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
