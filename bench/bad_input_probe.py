"""Re-run the bad-input probes of issue 16 against the demo database and print what each
endpoint answers: out-of-range ids, lone surrogates, NUL, wrong JSON types, an unknown
service slug, and how many session rows 200 anonymous API calls leave.

    make demo   # once
    .venv/bin/python bench/bad_input_probe.py

Everything runs inside one transaction that is rolled back: the demo database is unchanged.
"""

import json
import logging

from _django import setup

setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402

BIG = 10**30


class ErrorLog(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def probes(page_id):
    surrogate = "\ud800"
    json_posts = [
        ("outcome", "/api/v1/outcomes/", {"outcome": "solved", "article_id": BIG}),
        ("outcome", "/api/v1/outcomes/", {"outcome": "escalated", "team_id": BIG}),
        ("outcome", "/api/v1/outcomes/", {"outcome": "no_article", "search_id": BIG}),
        ("outcome", "/api/v1/outcomes/", {"outcome": "no_article", "locale": surrogate}),
        ("outcome", "/api/v1/outcomes/", {"outcome": "no_article", "note": "a\x00b"}),
        ("outcome", "/api/v1/outcomes/", {"outcome": "solved", "article_id": float("inf")}),
        ("outcome", "/api/v1/outcomes/", {"outcome": "no_article", "locale": ["en"]}),
        ("outcome", "/api/v1/outcomes/", {"outcome": "no_article", "note": {"a": 1}}),
        ("flag", "/api/v1/flags/", {"article_id": BIG, "reason": "outdated"}),
        (
            "flag",
            "/api/v1/flags/",
            {"article_id": page_id, "reason": "outdated", "comment": surrogate},
        ),
        ("flag", "/api/v1/flags/", {"article_id": page_id, "reason": ["x"]}),
        ("capture", "/api/v1/captures/", {"query": f"printer {surrogate}", "note": "x"}),
        ("capture", "/api/v1/captures/", {"query": "printer", "locale": surrogate}),
        ("capture", "/api/v1/captures/", {"query": ["x"]}),
        ("capture", "/api/v1/captures/", {"query": "printer", "locale": 5}),
        ("click", "/api/v1/clicks/", {"search_id": BIG, "article_id": 1, "position": 1}),
        ("click", "/api/v1/clicks/", {"search_id": 1, "article_id": BIG, "position": BIG}),
        ("click", "/api/v1/clicks/", {"search_id": surrogate}),
        ("click", "/api/v1/clicks/", {"search_id": float("inf")}),
    ]
    for name, url, payload in json_posts:
        text = json.dumps(payload)
        yield name, text, ("operator", "post_json", url, text)
    yield (
        "contact",
        f"GET ?article={BIG}",
        ("anonymous", "get", f"/en/contact/?article={BIG}", None),
    )
    yield (
        "contact",
        f"POST article={BIG}",
        (
            "anonymous",
            "post",
            "/en/contact/",
            {"name": "a", "email": "a@example.be", "message": "x", "article": str(BIG)},
        ),
    )
    yield (
        "feedback",
        f"POST article={BIG}",
        ("anonymous", "post", "/en/feedback/", {"article": str(BIG), "helpful": "yes"}),
    )
    yield (
        "flag (form)",
        f"POST article_id={BIG}",
        ("operator", "post", "/api/v1/flags/", {"article_id": str(BIG), "reason": "outdated"}),
    )
    yield (
        "article card",
        f"GET /api/v1/articles/{BIG}/",
        (
            "operator",
            "get",
            f"/api/v1/articles/{BIG}/",
            None,
        ),
    )
    for service in ("no-such-service", "a\x00b"):
        yield (
            "operator search",
            f"service={service!r}",
            ("operator", "get", "/api/v1/search/", {"q": "printer", "service": service}),
        )


def main():
    operator = Client(raise_request_exception=False, HTTP_HOST="localhost")
    operator.force_login(get_user_model().objects.get(username="operator"))
    anonymous = Client(raise_request_exception=False, HTTP_HOST="localhost")
    clients = {"operator": operator, "anonymous": anonymous}
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # 500s are counted below
    page = SolutionArticlePage.objects.live().filter(audience="public").first()
    rows, server_errors = [], 0
    with transaction.atomic():
        for endpoint, shown, (who, method, url, data) in probes(page.pk):
            errors.records.clear()
            client = clients[who]
            try:
                # A savepoint per probe: a database error in one leaves the next one working.
                with transaction.atomic():
                    if method == "post_json":
                        response = client.post(url, data, content_type="application/json")
                    elif method == "post":
                        response = client.post(url, data)
                    else:
                        response = client.get(url, data)
                status = response.status_code
                body = response.content.decode(errors="replace")
                message = json.loads(body).get("error", "") if body.startswith("{") else ""
            except Exception as exc:  # the error page itself failed: still a 500 to the caller
                status, message = 500, f"{type(exc).__name__}"
            server_errors += status >= 500
            logged = sum(1 for r in errors.records if r.exc_info)
            rows.append((endpoint, shown, status, message, logged))
        before = Session.objects.count()
        answered = {}
        for i in range(200):
            # A crawler farm: no cookies kept, one address each (below the rate limit).
            crawler = Client(HTTP_HOST="localhost", REMOTE_ADDR=f"10.0.{i // 200}.{i % 200 + 1}")
            status = crawler.get("/api/v1/public/search/", {"q": "printer offline"}).status_code
            answered[status] = answered.get(status, 0) + 1
        new_sessions = Session.objects.count() - before
        transaction.set_rollback(True)
    # tracebacks: ERROR records with a traceback logged by the code (django.request's own
    # record of a 500 is not counted; the status column shows those).
    print(f"{'endpoint':16} {'status':>6} {'tracebacks':>10}  input -> message")
    for endpoint, shown, status, message, logged in rows:
        print(f"{endpoint:16} {status:>6} {logged:>10}  {shown[:70]} -> {message[:70]}")
    print(f"\n{len(rows)} probes, {server_errors} answered 5xx")
    print(
        f"200 anonymous public-search API calls (statuses {answered}): "
        f"{new_sessions} new session rows"
    )


if __name__ == "__main__":
    main()
