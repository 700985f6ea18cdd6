"""Keeps credentials and personal identifiers that arrive in URLs out of the server's logs.

Two requests carry them in the query string because their clients cannot do otherwise:
the web chat's Server-Sent Events fallback (`EventSource` sends no headers, and a widget
on another site has no cookie of ours), with the visitor's conversation token and the
site's signed user id; and WeChat's webhook, with the citizen's openid. uvicorn writes
every request line to its access log, and logs are read by more people than the
conversations are. So their values are replaced with `***` before any handler sees them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# Query parameters whose values are credentials (token, user_hash, access_token) or
# identify a person (user: the host site's user id; openid: WeChat's per-account id).
SECRET_PARAMS = ("token", "user", "user_hash", "openid", "access_token")
_SECRET = re.compile(r"([?&](?:" + "|".join(SECRET_PARAMS) + r")=)[^&#\s\"']*")
MASK = "***"
# uvicorn's request-line loggers: HTTP requests, and WebSocket handshakes ("uvicorn.error")
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact_url(text: str) -> str:
    """`text` with the values of the parameters above masked (other parameters kept)."""
    return _SECRET.sub(lambda m: m.group(1) + MASK, text)


class RedactQuery(logging.Filter):
    """Masks secret query parameters in a record's message and string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        return True


def _masked(arg: Any) -> Any:
    return redact_url(arg) if isinstance(arg, str) and "=" in arg else arg


def install(loggers: tuple[str, ...] = LOGGERS) -> None:
    """Adds the filter to uvicorn's loggers, once; safe to call again."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQuery) for f in logger.filters):
            logger.addFilter(RedactQuery())
