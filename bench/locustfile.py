"""Locust users for bench/load_test.py. The mix (fixed counts, not weights):

- KB_LOAD_OPERATORS operators (default 50), logged in (a session made before the run, so
  50 password hashes do not load the start), each typing questions from the pool while the
  customer talks. KB_LOAD_TYPING=console (the default) types each question a key at a time
  by bench/console_typing.py's typing model and sends the searches the operator console
  (static/js/console.js) would send: 250 ms after a key with no key meanwhile, one search
  on the wire, only the newest text when it answers, never the question already listed
  (bench/console_operator.py); ~25 searches per question. KB_LOAD_TYPING=two is the earlier
  test's operator: the half-typed text, then the whole question, back to back. Every search
  is an "operator search (typing)" except the whole question's ("operator search").
  KB_LOAD_OPERATOR_WAIT="MIN,MAX": seconds from the end of one question (its results
  listed) to the start of the next (load_test.py --operator-wait states the default's
  source). Each operator's first question starts at a random moment within one
  question's cycle, so the calls do not all start in the same second. The pool
  (bench/query_pool.py, KB_LOAD_POOL=honest) is walked without repeats across all
  operators; KB_LOAD_POOL=old replays the earlier test's 12 English queries (cache hits).
- KB_LOAD_CUSTOMERS customers (default 10): the public search API with a pool question in
  its language, or an article page, every 2-5 s.
- An editor publishing an article revision every few seconds runs as a separate process
  (load_test.py), not here.

Every body is checked; a wrong one counts as a failure (an error in the report): not JSON or
without results/no_good_match; for the whole question, no results when it has an article,
or, for a question made from an article's own phrasing, that article missing from the
results; an article page without its title. When KB_LOAD_TALLY names a file, the operators'
tally (questions started and finished, searches sent in all and per finished question,
distinct texts, seconds from a question's first key to its last answer, ms from its last key
until its results were listed) is written there as JSON when locust exits.
"""

import itertools
import json
import os
import random
import statistics
import threading
import time

import gevent
from console_operator import type_question
from console_typing import keystrokes
from locust import HttpUser, between, events, task
from query_pool import OLD_POOL, build_pool

POOL_KIND = os.environ.get("KB_LOAD_POOL", "honest")
if POOL_KIND == "old":
    POOL = [{"query": q, "locale": "en", "expect": None} for q in OLD_POOL]
else:
    POOL = build_pool()
_next_query = itertools.cycle(POOL)
_pool_lock = threading.Lock()
SESSION = os.environ.get("KB_LOAD_SESSION", "")
TYPING = os.environ.get("KB_LOAD_TYPING", "console")
OPERATOR_WAIT = tuple(
    float(x) for x in os.environ.get("KB_LOAD_OPERATOR_WAIT", "60,180").split(",")
)
_typist_seeds = itertools.count(1)
# Seconds one question takes to type by the model (its mean over the first pool questions):
# part of an operator's cycle, for spreading the first questions.
MEAN_TYPING_S = (
    statistics.mean(
        keystrokes(q["query"], random.Random(n))[-1][0] / 1000 for n, q in enumerate(POOL[:200])
    )
    if TYPING == "console"
    else 0.0
)
# Questions started and finished (the last answer came), searches sent (all, and those of
# the finished questions), and seconds from a finished question's first key to its last answer.
# `listed_ms`: per finished typed question, ms from its last key until its results were
# listed (the console's feel: the pause, any search still on the wire, then its own).
TALLY = {
    "started": 0,
    "finished": 0,
    "searches": 0,
    "finished_searches": 0,
    "question_s": 0.0,
    "listed_ms": [],
}
_texts = set()
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
    """One search, its body checked; True when it answered HTTP 200."""
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
        return response.status_code == 200


@events.quitting.add_listener
def write_tally(environment, **kwargs):
    path = os.environ.get("KB_LOAD_TALLY")
    if path:
        with open(path, "w") as fh:
            json.dump({**TALLY, "distinct": len(_texts), "typing": TYPING}, fh)


class Operator(HttpUser):
    """A logged-in operator typing questions while the customer talks."""

    fixed_count = int(os.environ.get("KB_LOAD_OPERATORS", 50))
    # From the end of one question to the start of the next (load_test.py --operator-wait).
    wait_time = between(*OPERATOR_WAIT)

    def on_start(self):
        self.client.cookies.set("sessionid", SESSION)
        self.typist = random.Random(next(_typist_seeds))
        # A random moment within one question's cycle (typing, then the wait).
        gevent.sleep(random.uniform(0, MEAN_TYPING_S + sum(OPERATOR_WAIT) / 2))

    def send(self, question, text, whole):
        TALLY["searches"] += 1
        _texts.add((text, question["locale"]))
        name = "operator search" if whole else "operator search (typing)"
        params = {"limit": 8}
        if TYPING == "console":
            params["source"] = "console"  # as the console sends it (logged as an operator search)
        return search(
            self.client, "/api/v1/search/", {**question, "query": text}, name, whole, **params
        )

    @task
    def ask(self):
        question = next_question()
        TALLY["started"] += 1
        started = time.monotonic()
        if TYPING == "two":
            q = question["query"]
            self.send(question, q[: max(3, len(q) // 2)], False)
            self.send(question, q, True)
            sent = 2
        else:
            keys = keystrokes(question["query"], self.typist)
            sent = len(
                type_question(
                    keys,
                    lambda text, whole: self.send(question, text, whole),
                    clock=lambda: (time.monotonic() - started) * 1000,
                    sleep=lambda ms: gevent.sleep(ms / 1000),
                )
            )
            TALLY["listed_ms"].append((time.monotonic() - started) * 1000 - keys[-1][0])
        TALLY["finished"] += 1
        TALLY["finished_searches"] += sent
        TALLY["question_s"] += time.monotonic() - started


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
