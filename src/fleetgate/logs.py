"""Process logging: the level and the line format the settings ask for, one handler on stderr."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

from fleetgate.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: log collectors read it without a parser of ours."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: a record's arguments are already in the message; nothing else is odd.
        return orjson.dumps(entry, default=str).decode()


def configure_logging(settings: Settings) -> None:
    """Send every logger's records (uvicorn's too) to stderr at the configured level and format."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn's loggers write through the root handler, so they share its format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    # httpx logs every webhook POST at INFO, URL and all (a URL may carry a secret), and at
    # thousands a second the lines cost more than the POSTs; the worker logs what failed.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
