"""The load test's operator sends what the operator console would send for the same keys
(bench/console_operator.py, used by bench/locustfile.py; docs/reliability.md "Load").

Run on a simulated clock: `send` moves the clock by the server's answer time, so each case
is exact, with no timing in the test. The first two cases are the browser tests of the real
console (test_console_browser.py) replayed against the load test's logic."""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from console_operator import type_question  # noqa: E402
from console_typing import keystrokes, simulate  # noqa: E402
from query_pool import build_pool  # noqa: E402


def typed(keys, answer_ms):
    """Type `keys` [(ms, text in the box)]; `answer_ms(text, n)` is the server's time for
    the n-th search. Returns ([(text, whole)] sent, ms when the whole question's answer came)."""
    now = [0.0]
    sent, whole_answered = [], [None]

    def send(text, whole):
        sent.append((text, whole))
        now[0] += answer_ms(text, len(sent))
        if whole:
            whole_answered[0] = now[0]
        return True

    def sleep(ms):
        assert ms > 0
        now[0] += ms

    texts = type_question(keys, send, clock=lambda: now[0], sleep=sleep)
    assert texts == [text for text, _ in sent]
    return sent, whole_answered[0]


def test_a_slow_first_search_then_only_the_newest_text_goes_out():
    """test_typing_on_a_slow_server_sends_one_search_at_a_time_and_ends_on_the_whole_question:
    a word at a time, 450 ms apart, the first search answering only after the last word."""
    words = ["sim", "sim card", "sim card blocked", "sim card blocked puk"]
    keys = [(450.0 * n, text) for n, text in enumerate([*words, "sim card blocked puk code"])]
    sent, _ = typed(keys, lambda text, n: 5000 if n == 1 else 60)
    assert sent == [("sim", False), ("sim card blocked puk code", True)]


def test_steady_typing_sends_the_whole_question_once_and_a_trailing_space_nothing():
    """test_steady_typing_searches_when_the_operator_pauses_not_at_every_key: keys 100 ms
    apart send one search, after the last key; a space typed later asks nothing more."""
    question = "my printer says it is offline"
    keys = [(100.0 * i, question[:i]) for i in range(1, len(question) + 1)]
    sent, _ = typed(keys, lambda text, n: 60)
    assert sent == [(question, True)]
    with_space = [*keys, (keys[-1][0] + 700, question + " ")]
    sent, _ = typed(with_space, lambda text, n: 60)
    assert sent == [(question, True)]


def test_each_pause_on_an_idle_wire_asks_its_text_from_two_characters_on():
    keys = [(400.0 * i, "wifi"[:i]) for i in range(1, 5)]
    sent, _ = typed(keys, lambda text, n: 60)
    assert sent == [("wi", False), ("wif", False), ("wifi", True)]


def test_an_overtaken_answer_is_not_listed_so_its_text_is_asked_again():
    """console.js drops the answer of a search overtaken while on the wire ("printer" typed,
    then deleted back to "print"): the box's text is then asked again, as the console does."""
    keys = [(0.0, "print"), (300.0, "printer"), (600.0, "print")]
    sent, _ = typed(keys, lambda text, n: 1000 if n == 1 else 60)
    assert sent == [("print", True), ("print", True)]


@pytest.mark.parametrize("latency", [60.0, 700.0])
def test_the_pool_typed_by_the_model_sends_as_many_searches_as_the_console_simulation(latency):
    """bench/console_typing.py's simulation of the console (docs: ~25 searches per pool
    question) and the load test's live logic agree question by question: searches sent and
    when the whole question is listed, on a fast and on a slow server."""
    rng = random.Random(7)
    pool = [q["query"] for q in build_pool()[:300]]
    total = 0
    for text in pool:
        keys = keystrokes(text, rng)
        expected_count, expected_delay = simulate(keys, lambda t: 250, latency, True)
        sent, answered = typed(keys, lambda t, n: latency)
        assert len(sent) == expected_count, text
        assert [t for t, whole in sent if whole] == [text.strip()]
        assert answered - keys[-1][0] == pytest.approx(expected_delay), text
        total += len(sent)
    assert total / len(pool) > 10  # many searches per question, not the old two
