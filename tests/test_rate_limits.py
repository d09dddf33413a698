"""Rate limits: counted in the shared cache per client address, per HTTP method, with the
client address taken from the trusted proxy's header only when that is configured.
(The same limits across two gunicorn workers behind a proxy: test_production_path.py.)"""

import time
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from django.core.cache import cache

from insights.models import ContactRequest

CONTACT = {"name": "Jan Peeters", "email": "jan@example.be", "message": "My decoder shows E-202."}


@pytest.fixture(autouse=True)
def limits_on(db, settings, monkeypatch):
    settings.RATELIMIT_ENABLE = True
    settings.KB_CLIENT_IP_HEADER = ""
    settings.KB_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    # Windows are fixed: on a slow machine a test's requests could straddle a window's end
    # and start a fresh count. The limiter's clock stands still during each test.
    frozen = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: frozen))


def post_contact(client, **extra):
    return client.post("/en/contact/", CONTACT, **extra).status_code


def test_opening_the_contact_page_uses_no_submission(client):
    for _ in range(10):
        assert client.get("/en/contact/").status_code == 200
    statuses = [post_contact(client) for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert ContactRequest.objects.count() == 5


def test_the_sixth_contact_submission_in_ten_minutes_is_refused_with_a_message(client):
    for _ in range(5):
        post_contact(client)
    response = client.post("/en/contact/", CONTACT)
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()


def test_public_search_api_answers_429_in_json_after_its_limit(client):
    statuses = [
        client.get("/api/v1/public/search/", {"q": "x" * 501}).status_code for _ in range(121)
    ]
    assert statuses[:120] == [400] * 120  # bad queries count too: the limit protects the model
    last = client.get("/api/v1/public/search/", {"q": "printer"})
    assert last.status_code == 429 and "Too many requests" in last.json()["error"]


def test_customers_behind_the_trusted_proxy_each_have_their_own_allowance(client, settings):
    settings.KB_CLIENT_IP_HEADER = "X-Real-IP"
    for _ in range(5):
        assert post_contact(client, HTTP_X_REAL_IP="198.51.100.7") == 200
    assert post_contact(client, HTTP_X_REAL_IP="198.51.100.7") == 429
    assert post_contact(client, HTTP_X_REAL_IP="198.51.100.8") == 200


def test_header_from_an_untrusted_address_is_ignored(client, settings):
    settings.KB_CLIENT_IP_HEADER = "X-Real-IP"
    outside = {"REMOTE_ADDR": "203.0.113.50"}
    for n in range(5):
        assert post_contact(client, HTTP_X_REAL_IP=f"198.51.100.{n}", **outside) == 200
    # A new forged address per request does not buy a new allowance.
    assert post_contact(client, HTTP_X_REAL_IP="198.51.100.99", **outside) == 429


def test_header_is_ignored_unless_configured(client):
    for n in range(5):
        assert post_contact(client, HTTP_X_REAL_IP=f"198.51.100.{n}") == 200
    assert post_contact(client, HTTP_X_REAL_IP="198.51.100.99") == 429


def test_forwarded_for_counts_the_address_the_proxy_appended(client, settings):
    settings.KB_CLIENT_IP_HEADER = "X-Forwarded-For"
    # The client forged the first entry; nginx appended the address it really saw.
    for _ in range(5):
        assert post_contact(client, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7") == 200
    assert post_contact(client, HTTP_X_FORWARDED_FOR="10.9.9.8, 198.51.100.7") == 429


def test_ipv6_clients_are_counted_per_64_block(client):
    for n in range(5):
        assert post_contact(client, REMOTE_ADDR=f"2001:db8:1:2::{n + 1}") == 200
    assert post_contact(client, REMOTE_ADDR="2001:db8:1:2::ff") == 429
    assert post_contact(client, REMOTE_ADDR="2001:db8:1:3::1") == 200


def test_database_cache_increments_in_place_and_keeps_the_count(db):
    assert cache.add("rl-test", 1, 60)
    assert [cache.incr("rl-test") for _ in range(3)] == [2, 3, 4]
    assert cache.get("rl-test") == 4
    with pytest.raises(ValueError):
        cache.incr("rl-missing")
