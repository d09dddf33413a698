"""Security headers, hostile input (property-based) and who may see and do what."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import SolutionArticlePage
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize(
    "url", ["/en/", "/nl/search/?q=printer", "/api/v1/public/search/?q=vpn", "/accounts/login/"]
)
def test_security_headers_on_public_surfaces(client, url):
    response = client.get(url)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert (
        "'unsafe-inline'"
        not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] in ("DENY", "SAMEORIGIN")


@pytest.mark.model
@PROPERTY
@given(query=st.text(max_size=700))
def test_public_search_api_never_fails_on_any_text(client, query):
    response = client.get("/api/v1/public/search/", {"q": query, "locale": "nl"})
    assert response.status_code in (200, 400)
    assert isinstance(response.json(), dict)


@pytest.mark.model
@PROPERTY
@given(
    query=st.text(max_size=300),
    limit=st.one_of(st.text(max_size=5), st.integers(-5, 100).map(str)),
    locale=st.text(max_size=5),
)
def test_operator_search_api_never_fails(operator, query, limit, locale):
    response = operator.get("/api/v1/search/", {"q": query, "limit": limit, "locale": locale})
    assert response.status_code in (200, 400)


@PROPERTY
@given(
    payload=st.one_of(
        st.text(max_size=200),
        st.dictionaries(
            st.sampled_from(["outcome", "article_id", "team_id", "note", "query", "search_id"]),
            st.one_of(
                st.text(max_size=1200),
                st.integers(),
                st.none(),
                st.lists(st.integers(), max_size=2),
            ),
        ),
    )
)
def test_outcome_api_answers_bad_payloads_with_4xx(operator, payload):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    response = operator.post("/api/v1/outcomes/", body, content_type="application/json")
    assert response.status_code in (201, 400, 404)


@PROPERTY
@given(
    name=st.text(max_size=200),
    email=st.text(max_size=60),
    message=st.text(max_size=4000),
    phone=st.text(max_size=60),
    article=st.text(max_size=8),
)
def test_contact_form_never_fails(client, name, email, message, phone, article):
    response = client.post(
        "/en/contact/",
        {"name": name, "email": email, "message": message, "phone": phone, "article": article},
    )
    assert response.status_code == 200


@PROPERTY
@given(helpful=st.text(max_size=5), article=st.text(max_size=8))
def test_feedback_endpoint_never_fails(client, helpful, article):
    response = client.post("/en/feedback/", {"helpful": helpful, "article": article})
    assert response.status_code in (200, 302, 404)


ROLES = ["anonymous", "customer", "operator", "secondline", "manager", "admin"]
# url -> expected status per role, in ROLES order
ACCESS = {
    "/operator/": [302, 403, 200, 200, 200, 200],
    "/api/v1/search/?q=printer": [401, 403, 200, 200, 200, 200],
    "/api/v1/public/search/?q=printer": [200, 200, 200, 200, 200, 200],
    "/en/": [200, 200, 200, 200, 200, 200],
    "/admin/": [302, 302, 302, 200, 200, 200],
    "/admin/snippets/articles/servicelevel/": [302, 302, 302, 200, 200, 200],
    "/admin/contactrequest/": [302, 302, 302, 200, 200, 200],
    "/admin/calloutcome/": [302, 302, 302, 200, 200, 200],
    "/admin/snippets/incidents/knownproblem/": [302, 302, 302, 200, 200, 200],
    "/en/status/": [200, 200, 200, 200, 200, 200],
    "/admin/pages/": [302, 302, 302, 200, 200, 200],
    "INTERNAL_ARTICLE": [302, 302, 200, 200, 200, 200],
    "INTERNAL_CARD": [401, 403, 200, 200, 200, 200],
}


@pytest.mark.parametrize("url", list(ACCESS))
def test_access_table(url, users, customer):
    internal = SolutionArticlePage.objects.live().filter(audience="internal").first()
    target = {
        "INTERNAL_ARTICLE": internal.url,
        "INTERNAL_CARD": f"/api/v1/articles/{internal.pk}/",
    }.get(url, url)
    accounts = {"customer": customer, **users}
    seen = []
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(accounts[role])
        response = client.get(target)
        seen.append(response.status_code)
        if response.status_code != 200 and url.startswith("INTERNAL"):
            assert internal.title not in response.content.decode()
    assert seen == ACCESS[url], dict(zip(ROLES, seen, strict=True))


XSS = [line for line in open("tests/data/xss_corpus.txt").read().splitlines() if line]


def test_xss_in_feedback_comments_is_harmless_where_staff_read_it(client, users, article):
    from insights.models import ArticleFeedback

    page = article("demo-printer-offline")
    for payload in XSS:
        details = client.post("/en/feedback/", {"article": page.pk, "helpful": "no"})["Location"]
        client.post(details, {"reason": "outdated", "comment": payload})
    assert ArticleFeedback.objects.filter(article=page).count() == len(XSS)
    staff = logged_in(users["manager"])
    html = staff.get("/admin/articlefeedback/").content.decode()
    for marker in ("<script>alert", "onerror=", "javascript:alert", "<iframe", "<svg onload"):
        assert marker not in html


def test_production_settings_pass_the_deployment_checks(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="kbsite.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "-long-random-production-secret-value-for-the-check",
        DJANGO_ALLOWED_HOSTS="kb.example.be",
        KB_BASE_URL="https://kb.example.be",
        KB_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- ids out of range, lone surrogates, wrong types: a clear 4xx on every endpoint ---------

OUT_OF_RANGE = st.sampled_from([10**30, -(10**30), 2**63, -(2**63) - 1, 10**19])
LONE_SURROGATE = st.builds(
    lambda before, surrogate, after: before + surrogate + after,
    st.text(max_size=8),
    st.sampled_from(["\ud800", "\udfff", "\udc00", "\ud83d"]),
    st.text(max_size=8),
)
ANY_ID = st.one_of(
    OUT_OF_RANGE,
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    LONE_SURROGATE,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
    st.booleans(),
    st.none(),
)
ANY_TEXT = st.one_of(st.text(max_size=40), LONE_SURROGATE, ANY_ID)


def _post_json(client, url, payload):
    # json.dumps writes lone surrogates as \ud800 escapes and infinities as Infinity,
    # as a hostile client would send them.
    return client.post(url, json.dumps(payload), content_type="application/json")


def _assert_clear_4xx_or_success(response, *success):
    assert response.status_code in (*success, 400, 404), response.content[:300]
    if response.status_code in (400, 404):
        assert response.json()["error"]


@PROPERTY
@given(
    payload=st.fixed_dictionaries(
        {"outcome": st.sampled_from(["solved", "escalated", "no_article"])},
        optional={
            "article_id": ANY_ID,
            "team_id": ANY_ID,
            "search_id": ANY_ID,
            "locale": ANY_TEXT,
            "query": ANY_TEXT,
            "note": ANY_TEXT,
        },
    )
)
def test_outcome_api_answers_odd_ids_surrogates_and_types_with_4xx(operator, payload):
    _assert_clear_4xx_or_success(_post_json(operator, "/api/v1/outcomes/", payload), 201)


@PROPERTY
@given(
    payload=st.fixed_dictionaries(
        {"article_id": ANY_ID},
        optional={"reason": ANY_TEXT, "comment": ANY_TEXT, "source": ANY_TEXT},
    )
)
def test_flag_api_answers_odd_ids_surrogates_and_types_with_4xx(operator, payload):
    _assert_clear_4xx_or_success(_post_json(operator, "/api/v1/flags/", payload), 201)


@PROPERTY
@given(
    payload=st.fixed_dictionaries(
        {}, optional={"query": ANY_TEXT, "note": ANY_TEXT, "locale": ANY_TEXT}
    )
)
def test_capture_api_answers_surrogates_and_types_with_4xx(operator, payload):
    _assert_clear_4xx_or_success(_post_json(operator, "/api/v1/captures/", payload), 201)


@PROPERTY
@given(
    payload=st.fixed_dictionaries(
        {}, optional={"search_id": ANY_ID, "article_id": ANY_ID, "position": ANY_ID}
    )
)
def test_click_api_answers_odd_ids_surrogates_and_types_with_4xx(client, payload):
    _assert_clear_4xx_or_success(_post_json(client, "/api/v1/clicks/", payload), 201)


@PROPERTY
@given(page_id=st.one_of(OUT_OF_RANGE, st.integers(0, 10**12)))
def test_article_card_api_answers_any_id_with_200_or_404(operator, page_id):
    response = operator.get(f"/api/v1/articles/{page_id}/")
    assert response.status_code in (200, 404)


@PROPERTY
@given(article=st.one_of(OUT_OF_RANGE.map(str), st.text(max_size=30)))
def test_contact_and_feedback_answer_any_article_id(client, article):
    assert client.get("/en/contact/", {"article": article}).status_code == 200
    assert client.post("/en/feedback/", {"article": article, "helpful": "yes"}).status_code in (
        200,
        404,
    )


BIG = 10**30


@pytest.mark.parametrize(
    "method, url, payload, status, message",
    [
        (
            "post",
            "/api/v1/outcomes/",
            {"outcome": "solved", "article_id": BIG},
            404,
            "No such article",
        ),
        ("post", "/api/v1/outcomes/", {"outcome": "escalated", "team_id": BIG}, 400, "team"),
        (
            "post",
            "/api/v1/outcomes/",
            {"outcome": "no_article", "locale": "\ud800"},
            400,
            "surrogate",
        ),
        (
            "post",
            "/api/v1/outcomes/",
            {"outcome": "no_article", "locale": ["nl"]},
            400,
            "locale must be text",
        ),
        (
            "post",
            "/api/v1/flags/",
            {"article_id": BIG, "reason": "outdated"},
            404,
            "No such article",
        ),
        ("post", "/api/v1/captures/", {"query": "printer \ud800 kapot"}, 400, "surrogate"),
        ("post", "/api/v1/captures/", {"query": "printer", "locale": 5}, 400, "must be text"),
        (
            "post",
            "/api/v1/clicks/",
            {"search_id": BIG, "article_id": BIG, "position": 1},
            404,
            "No such search result",
        ),
        ("get", f"/api/v1/articles/{BIG}/", None, 404, "No such article"),
    ],
)
def test_issue_16_probes_get_a_clear_4xx(operator, method, url, payload, status, message):
    if method == "post":
        response = _post_json(operator, url, payload)
    else:
        response = operator.get(url)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_out_of_range_article_on_the_customer_forms_is_no_article(client):
    response = client.get("/en/contact/", {"article": str(BIG)})
    assert response.status_code == 200 and 'name="message"' in response.content.decode()
    assert client.post("/en/feedback/", {"article": str(BIG), "helpful": "yes"}).status_code == 404
    from insights.models import ContactRequest

    response = client.post(
        "/en/contact/",
        {"name": "Jan", "email": "jan@example.be", "message": "help", "article": str(BIG)},
    )
    assert response.status_code == 200
    assert ContactRequest.objects.get().article is None


def test_an_emoji_written_as_a_surrogate_pair_is_still_accepted(operator):
    body = '{"outcome": "no_article", "query": "printer \\ud83d\\udda8 kapot"}'
    response = operator.post("/api/v1/outcomes/", body, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.model
def test_anonymous_api_calls_create_no_session_rows(article):
    from django.contrib.sessions.models import Session

    page = article("demo-printer-offline")
    before = Session.objects.count()
    for i in range(200):
        visitor = Client()  # a crawler: no cookies kept between calls
        if i % 4 == 3:
            response = visitor.post("/api/v1/clicks/", "{}", content_type="application/json")
            assert response.status_code == 404
        elif i % 4 == 2:
            assert visitor.get(f"/api/v1/articles/{page.pk}/").status_code == 401
        else:
            response = visitor.get(
                "/api/v1/public/search/", {"q": "printer offline", "locale": "en"}
            )
            assert response.status_code == 200
            assert "sessionid" not in response.cookies and "kb_trail" in response.cookies
    assert Session.objects.count() == before


@pytest.mark.model
def test_a_visitors_own_click_is_accepted_through_the_trail_cookie(client):
    data = client.get("/api/v1/public/search/", {"q": "printer offline", "locale": "en"}).json()
    click = {"search_id": data["search_id"], "article_id": data["results"][0]["id"], "position": 1}
    assert _post_json(client, "/api/v1/clicks/", click).status_code == 201
    assert _post_json(Client(), "/api/v1/clicks/", click).status_code == 404  # not a stranger's


@pytest.mark.model
def test_unknown_service_on_the_operator_api_is_a_clear_400_without_an_error_log(operator, caplog):
    import logging

    with caplog.at_level(logging.WARNING):
        for service in ("no-such-service", "a\x00b", "x" * 300):
            response = operator.get("/api/v1/search/", {"q": "printer offline", "service": service})
            assert response.status_code == 400
            assert "Unknown service" in response.json()["error"]
        response = operator.get("/api/v1/search/", {"q": "printer", "level": "premium\x00"})
        assert response.status_code == 400 and "level" in response.json()["error"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
