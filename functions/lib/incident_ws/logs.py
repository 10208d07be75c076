"""One log line per meaningful event: `<event> {json fields}`.

The fields ride in the message itself, so the line reads the same under Lambda's JSON
log format (as its `message`) and in plain text (local runs, tests).
"""

from __future__ import annotations

import json
import logging
from typing import Any


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    if logger.isEnabledFor(level):
        logger.log(level, "%s %s", event, json.dumps(fields, sort_keys=True, default=str))
