"""Security headers, hostile input (property-based) and who may see and do what."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import SolutionArticlePage

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
def test_operator_search_api_never_fails(client, users, query, limit, locale):
    client.force_login(users["operator"])
    response = client.get("/api/v1/search/", {"q": query, "limit": limit, "locale": locale})
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
def test_outcome_api_answers_bad_payloads_with_4xx(client, users, payload):
    client.force_login(users["operator"])
    body = payload if isinstance(payload, str) else json.dumps(payload)
    response = client.post("/api/v1/outcomes/", body, content_type="application/json")
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
    staff = Client()
    staff.force_login(users["manager"])
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
