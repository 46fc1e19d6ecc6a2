"""The myclient loggers and the fields every one of their records carries.

Every record from a myclient logger has the same attributes, so one ``logging.Formatter`` works for
all of them: ``cid`` (the client's correlation id), ``baseurl``, ``method``, ``endpoint`` (the path
under the base URL), ``url`` (redacted), ``status`` (a code or an exception class name) and
``elapsed_ms``, each an empty string where it does not apply; the same values also under
``myclient_``-prefixed names (``myclient_cid``, …), which never clash with other libraries' extras.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["FIELDS", "fields", "get_logger", "redact_urllib3_logging"]

#: The documented fields of every myclient log record.
FIELDS = ("cid", "baseurl", "method", "endpoint", "url", "status", "elapsed_ms")
_ALL = FIELDS + tuple(f"myclient_{name}" for name in FIELDS)


class _Fields(logging.Filter):
    """Fills the documented fields with "" on records that did not set them (e.g. a hook warning)."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = record.__dict__
        for name in _ALL:
            if name not in values:
                values[name] = ""
        return True


_FILTER = _Fields()


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` (under ``myclient``) with the field filter attached once."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def fields(
    cid: str = "", baseurl: str = "", method: str = "", endpoint: str = "", url: str = "",
    status: Any = "", elapsed_ms: Any = "",
) -> dict[str, Any]:
    """The ``extra=`` mapping for one record (values already redacted by the caller)."""
    values = {"cid": cid, "baseurl": baseurl, "method": method, "endpoint": endpoint, "url": url,
              "status": status, "elapsed_ms": elapsed_ms}
    values.update({f"myclient_{k}": v for k, v in list(values.items())})
    return values


class _RedactRecords(logging.Filter):
    """Rewrites a record's message through the redaction registry (urllib3 logs full URLs at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .redaction import registry

        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is left to logging's own error handling
            return True
        record.msg = registry.text(message)
        record.args = ()
        return True


_URLLIB3_FILTER = _RedactRecords()
#: The loggers whose records carry request lines with full URLs (``GET /x?api_key=...``).
URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "urllib3.poolmanager")


def redact_urllib3_logging(enable: bool = True) -> None:
    """Mask secrets in urllib3's own log records (opt-in; off again with ``enable=False``).

    With the root logger at DEBUG, ``urllib3.connectionpool`` logs every request line with its query
    string. This installs a filter on urllib3's loggers that passes each message through myclient's
    redaction registry (secret query parameters, registered tokens, credential shapes).
    """
    for name in URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if enable and _URLLIB3_FILTER not in logger.filters:
            logger.addFilter(_URLLIB3_FILTER)
        elif not enable:
            logger.removeFilter(_URLLIB3_FILTER)
