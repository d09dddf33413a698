"""Access logs without personal data.

A search typed into the public API or the self-service page travels in the query string
(`/api/v1/public/search/?q=jan%40example.be`), and so do the title and issue the editor
sends to the similar-articles check. Web servers write that line to their access log before
the application has redacted anything. Two hooks redact it first, with the same rules as the
search log (textutils.redaction):

- `RedactPersonalData`, a logging filter on Django's `django.server` (runserver) and
  `django.request` loggers (kbsite/settings/base.py LOGGING);
- `RedactingGunicornLogger`, gunicorn's `logger_class` (gunicorn.conf.py): the request line,
  path, query string, referer and every header/environ atom are redacted before
  `access_log_format` is applied.

The client address (`%(h)s`) stays: it is kept for security and abuse handling, for as long
as the access log is kept (docs/privacy.md).
"""

import logging
import re
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode

from textutils.redaction import redact

# A path with an optional query string, as it appears in a request line or a referer.
_URL = re.compile(r"(?P<path>/[^\s\"'?#]*)(?:\?(?P<query>[^\s\"'#]*))?")
_URL_ATOMS = ("r", "U", "q", "f")


def _redact_query(query):
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return redact(unquote(query))
    redacted = [(redact(key), redact(value)) for key, value in pairs]
    if redacted == pairs:
        return query
    return urlencode(redacted, safe="[]", quote_via=quote_plus)


def _redact_path(path):
    plain = unquote(path)
    redacted = redact(plain)
    return path if redacted == plain else quote(redacted, safe="/[]")


def redact_url_text(text):
    """`text` with the paths and query strings in it redacted (and any other text that
    holds an @ or a digit outside a URL: a header, a 'Not Found: ...' line)."""
    if not text or not any(c == "@" or c.isdigit() for c in text) and "?" not in text:
        return text
    if _URL.search(text) is None:
        return redact(text)

    def replace(match):
        path = _redact_path(match.group("path"))
        query = match.group("query")
        return path if query is None else f"{path}?{_redact_query(query)}"

    return _URL.sub(replace, text)


def redact_query_string(query):
    """A bare query string (`q=...&locale=...`), redacted."""
    return _redact_query(query) if query else query


class RedactPersonalData(logging.Filter):
    """Redact URLs in the message's arguments before any handler formats them."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url_text(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact_url_text(record.msg)
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is a runtime dependency
    _GunicornLogger = object

_ATOM = re.compile(r"%\((?P<key>[^)]+)\)")


class RedactingGunicornLogger(_GunicornLogger):
    """Gunicorn's logger with every atom that `access_log_format` prints redacted (request
    line, path, query string, referer, headers): redaction costs time, so only those."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        used = {
            key.lower() if key.startswith("{") else key
            for key in (m.group("key") for m in _ATOM.finditer(self.cfg.access_log_format))
        }
        for key in used & set(atoms):
            value = atoms[key]
            if not isinstance(value, str) or key in ("h", "t", "s", "m", "H", "b", "p"):
                continue
            if key == "q" or key.lower() == "{query_string}e":
                atoms[key] = redact_query_string(value)
            else:
                atoms[key] = redact_url_text(value)
        return atoms
