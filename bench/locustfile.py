"""Locust users for bench/load_test.py. The mix (fixed counts, not weights):

- KB_LOAD_OPERATORS operators (default 50), logged in (a session made before the run, so
  50 password hashes do not load the start), each typing a question from the pool while
  the customer talks: the half-typed text, then the whole question, 1-3 s apart. Each
  operator's first question comes at a random moment within one wait (operators' calls do
  not all start in the same second; before, all 50 asked at once when the step started, and
  at 10-30 s between questions that burst was a quarter of a 75 s step's searches). The pool
  (bench/query_pool.py, KB_LOAD_POOL=honest) is walked without repeats across all operators;
  KB_LOAD_POOL=old replays the earlier test's 12 English queries (the peer: cache hits).
- KB_LOAD_CUSTOMERS customers (default 10): the public search API with a pool question in
  its language, or an article page, every 2-5 s.
- An editor publishing an article revision every few seconds runs as a separate process
  (load_test.py), not here.

Every body is checked; a wrong one counts as a failure (an error in the report): not JSON or
without results/no_good_match; no results for a question that has an article; for a question
made from an article's own phrasing, that article missing from the results; an article page
without its title.
"""

import itertools
import os
import random
import threading

import gevent
from locust import HttpUser, between, task
from query_pool import OLD_POOL, build_pool

POOL_KIND = os.environ.get("KB_LOAD_POOL", "honest")
if POOL_KIND == "old":
    POOL = [{"query": q, "locale": "en", "expect": None} for q in OLD_POOL]
else:
    POOL = build_pool()
_next_query = itertools.cycle(POOL)
_pool_lock = threading.Lock()
SESSION = os.environ.get("KB_LOAD_SESSION", "")
ARTICLE_PATH = "/en/printers-hardware/office-printer-shows-as-offline/"


def next_question():
    with _pool_lock:
        return next(_next_query)


def check_search(response, question, complete):
    """None if the body is right, else what is wrong with it."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        data = response.json()
        results = data["results"]
        data["no_good_match"]  # noqa: B018 (must be present)
    except (ValueError, KeyError, TypeError):
        return "not a search answer"
    if not complete or question["expect"] is None:
        return None
    if not results:
        return "no results for an answerable question"
    if question["expect"] != "any" and question["expect"] not in {
        r.get("external_id") for r in results
    }:
        return "the article of this phrasing is missing"
    return None


def search(client, path, question, name, complete, **params):
    with client.get(
        path,
        params={"q": question["query"], "locale": question["locale"], **params},
        name=name,
        catch_response=True,
    ) as response:
        problem = check_search(response, question, complete)
        if problem:
            response.failure(problem)
        else:
            response.success()


class Operator(HttpUser):
    """A logged-in operator typing a question while the customer talks."""

    fixed_count = int(os.environ.get("KB_LOAD_OPERATORS", 50))
    # Seconds between one operator's questions (load_test.py --operator-wait).
    wait_time = between(
        *(float(x) for x in os.environ.get("KB_LOAD_OPERATOR_WAIT", "1,3").split(","))
    )

    def on_start(self):
        self.client.cookies.set("sessionid", SESSION)
        gevent.sleep(self.wait_time())  # spread the first questions over one wait

    @task
    def search_while_typing(self):
        question = next_question()
        half = {**question, "query": question["query"][: max(3, len(question["query"]) // 2)]}
        search(self.client, "/api/v1/search/", half, "operator search (typing)", False, limit=8)
        search(self.client, "/api/v1/search/", question, "operator search", True, limit=8)


class Customer(HttpUser):
    fixed_count = int(os.environ.get("KB_LOAD_CUSTOMERS", 10))
    wait_time = between(2, 5)

    def on_start(self):
        gevent.sleep(self.wait_time())

    @task(2)
    def public_search(self):
        question = random.choice(POOL)
        if question["expect"] not in (None, "any"):
            question = {**question, "expect": "any"}  # the article may be internal
        search(self.client, "/api/v1/public/search/", question, "public search API", True)

    @task(1)
    def read_article(self):
        with self.client.get(ARTICLE_PATH, name="article page", catch_response=True) as response:
            if response.status_code != 200 or "offline" not in response.text.lower():
                response.failure(f"article page: HTTP {response.status_code} or no title")
            else:
                response.success()
