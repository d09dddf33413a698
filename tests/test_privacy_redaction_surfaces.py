"""Personal data is redacted before anything is stored or written: access logs, the public
search address, drafts captured from a call."""

import datetime
import json
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.servers.basehttp import WSGIRequestHandler

from articles.models import SolutionArticlePage

ROOT = Path(__file__).resolve().parent.parent
SECRET_QUERY = "modem kapot, mail piet\u200b@example.be of bel (0470) 12 34 56, klant CUST 1234567"
SECRETS = ("piet", "example.be", "0470", "12 34 56", "1234567")


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def django_server_log():
    logger = logging.getLogger("django.server")
    handler = Capture()
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_email_in_an_api_query_string_never_reaches_the_runserver_access_log(django_server_log):
    # Django's own request handler logs the request line through the configured logger.
    handler = SimpleNamespace(request=None, log_date_time_string=lambda: "30/Nov/2026 10:00:00")
    request_line = "GET /api/v1/public/search/?q=wifi+jan.peeters%40example.be&locale=nl HTTP/1.1"
    WSGIRequestHandler.log_message(handler, '"%s" %s %s', request_line, "200", "512")
    (line,) = django_server_log
    assert "jan.peeters" not in line and "example.be" not in line
    assert "/api/v1/public/search/?q=wifi+[EMAIL]&locale=nl" in line and '" 200 512' in line


def test_technical_tokens_in_a_query_string_stay_in_the_access_log(django_server_log):
    handler = SimpleNamespace(request=None, log_date_time_string=lambda: "now")
    request_line = "GET /en/search/?q=Windows+10.0.19045.3803+KB5034441 HTTP/1.1"
    WSGIRequestHandler.log_message(handler, '"%s" %s %s', request_line, "200", "10")
    assert request_line in django_server_log[0]


def test_gunicorn_access_log_written_with_the_configured_format_has_no_personal_data(tmp_path):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger
    from gunicorn.util import load_class

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    logger_class = load_class(conf["logger_class"], section="gunicorn.loggers")
    assert issubclass(logger_class, Logger)
    cfg = Config()
    access_log = tmp_path / "access.log"
    cfg.set("accesslog", str(access_log))
    cfg.set("access_log_format", conf["access_log_format"])
    logger = logger_class(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/public/search/?q=an.de.smet%40telenet.be+%280470%29+12+34+56",
        "PATH_INFO": "/api/v1/public/search/",
        "QUERY_STRING": "q=an.de.smet%40telenet.be+%280470%29+12+34+56",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "https://kb.example.be/nl/search/?q=IBAN+BE71+0961+2345+6769",
        "HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    }
    response = SimpleNamespace(status="200 OK", sent=321, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = access_log.read_text()
    for secret in ("an.de.smet", "telenet", "0470", "BE71", "6769"):
        assert secret not in line
    assert '"GET /api/v1/public/search/?q=[EMAIL]' in line and "[PHONE]" in line
    assert "[IBAN]" in line and " 200 321 " in line and "Windows NT 10.0" in line


@pytest.mark.django_db
def test_public_search_redirects_to_the_query_without_personal_data(client):
    response = client.get("/en/search/", {"q": "wifi (0470) 12 34 56 piet\u200b@example.be"})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)["q"][0]
    assert query == "wifi [PHONE] [EMAIL]"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["Windows 10.0.19045.3803", "modem 192.168.100.254", "IMEI 356938035643809"]
)
def test_public_search_keeps_technical_queries_as_typed(client, query):
    response = client.get("/en/search/", {"q": query})
    assert response.status_code == 200
    assert response.context["query"] == query


def test_captured_draft_carries_no_personal_data_in_title_slug_revisions_or_log(operator):
    from wagtail.models import PageLogEntry

    response = operator.post(
        "/api/v1/captures/",
        data=json.dumps(
            {"query": SECRET_QUERY, "note": "Windows 10.0.19045.3803, IBAN BE71 0961 2345 6769"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    page = SolutionArticlePage.objects.get(pk=response.json()["id"])
    stored = [page.title, page.slug, page.draft_title, page.issue, page.cause]
    stored += [json.dumps(r.content, ensure_ascii=False) for r in page.revisions.all()]
    stored += [
        json.dumps([e.label, e.data], ensure_ascii=False)
        for e in PageLogEntry.objects.filter(page=page)
    ]
    stored.append(response.content.decode())
    text = "\n".join(stored)
    for secret in SECRETS + ("BE71", "6769"):
        assert secret not in text
    assert "[EMAIL]" in page.title and "[PHONE]" in page.title
    assert "10.0.19045.3803" in page.issue  # the words that identify the problem stay
