"""The operator console on a live call, in a real browser: a slow search must never make Enter
open an article for an older question, and the card and the highlighted result stay in step."""

import threading

import pytest

from search import service
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every card the console shows, in order (recorded in the page, so nothing is missed).
RECORD_CARDS = """() => {
  window.cardsShown = [];
  new MutationObserver(() => {
    const title = document.querySelector('#card:not([hidden]) #card-title');
    if (title && window.cardsShown.at(-1) !== title.innerText) window.cardsShown.push(title.innerText);
  }).observe(document.getElementById('card'), {childList: true, subtree: true, attributes: true});
}"""


@pytest.fixture
def slow_search(monkeypatch):
    """The operator search API, slowed down on the server like a busy one: every search waits
    until the test releases it (or a few seconds pass), then runs the real search."""
    real_search = service.search
    gate = threading.Event()

    def slow(*args, **kwargs):
        gate.wait(timeout=4)
        return real_search(*args, **kwargs)

    monkeypatch.setattr(service, "search", slow)
    return gate


def first_title(page):
    return page.locator("#results .hit .hit-title").first.inner_text()


def test_enter_right_after_typing_opens_the_new_questions_article_not_the_old_one(
    login_browser, users, slow_search
):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    slow_search.set()  # the first question gets its answer
    page.locator("#q").fill("printer offline")
    page.wait_for_selector("#results .hit")
    assert "rinter" in first_title(page)
    page.evaluate(RECORD_CARDS)

    slow_search.clear()  # from now on the search is slow
    page.locator("#q").fill("sim card blocked puk code")
    page.locator("#q").press("Enter")
    assert "stale" in page.locator("#results").get_attribute("class")  # dimmed meanwhile
    slow_search.set()

    page.wait_for_selector("#card:not([hidden]) #card-title")
    card_title = page.locator("#card-title").inner_text()
    assert "PUK" in card_title or "SIM" in card_title
    assert card_title == first_title(page)
    assert page.locator("#hit-0").get_attribute("aria-selected") == "true"
    assert page.evaluate("window.cardsShown") == [card_title]  # no printer card, not even briefly


def test_enter_on_results_that_answer_the_question_opens_the_chosen_one(login_browser, users):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    page.locator("#q").fill("printer offline")
    page.wait_for_selector("#results .hit")
    page.locator("#q").press("ArrowDown")
    chosen = page.locator("#hit-1 .hit-title").inner_text()
    page.locator("#q").press("Enter")
    page.wait_for_selector("#card:not([hidden]) #card-title")
    assert page.locator("#card-title").inner_text() == chosen
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "console-card-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "console-card-phone")


# Settled: no search or card on its way, and the highlighted result is the card's article
# (or nothing is highlighted because the card's article is no longer listed).
CARD_AND_HIGHLIGHT_IN_STEP = """(coverage) => {
  if (document.querySelector('#results[aria-busy], #card[aria-busy]')) return false;
  const card = document.querySelector('#card:not([hidden]) #card-title');
  const chosen = document.querySelector('#results .hit[aria-selected=true] .hit-title');
  if (!card || (coverage && !(document.querySelector('#card .coverage')?.innerText || '').includes(coverage))) return false;
  return chosen ? chosen.innerText === card.innerText : true;
}"""


def test_changing_contract_or_language_keeps_the_card_and_the_highlight_in_step(
    login_browser, users
):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    page.select_option("#locale", "en")
    page.locator("#q").fill("printer offline")
    page.wait_for_selector("#results .hit")
    page.locator("#q").press("ArrowDown")
    chosen = page.locator("#hit-1 .hit-title").inner_text()
    page.locator("#q").press("Enter")
    page.wait_for_selector("#card:not([hidden]) #card-title")
    assert page.locator("#card-title").inner_text() == chosen

    page.select_option("#level", "premium")
    page.wait_for_function(CARD_AND_HIGHLIGHT_IN_STEP, arg="Premium")
    assert page.locator("#card-title").inner_text() == chosen
    assert page.locator("#hit-1").get_attribute("aria-selected") == "true"

    page.select_option("#locale", "nl")
    page.wait_for_function(CARD_AND_HIGHLIGHT_IN_STEP, arg="Premium")
    highlighted = page.locator("#results .hit[aria-selected=true] .hit-title")
    if highlighted.count():  # the Dutch version of the article is listed: the card shows it
        assert page.locator("#card-title").inner_text() == highlighted.inner_text()
    else:  # not listed in Dutch: the card keeps the article, nothing else is highlighted
        assert page.locator("#card-title").inner_text() == chosen


def test_solved_button_is_disabled_and_looks_it_until_an_article_is_open(login_browser, users):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    solved = page.locator("#outcome-solved")
    escalate = page.locator("#outcome-escalated")
    assert solved.is_disabled() and solved.get_attribute("aria-disabled") == "true"
    style = "el => getComputedStyle(el).backgroundColor + ' ' + getComputedStyle(el).cursor"
    assert solved.evaluate(style) != escalate.evaluate(style)
    assert solved.evaluate("el => getComputedStyle(el).cursor") == "not-allowed"

    page.locator("#q").fill("printer offline")
    page.wait_for_selector("#results .hit")
    page.locator("#q").press("Enter")
    page.wait_for_selector("#card:not([hidden]) #card-title")
    assert solved.is_enabled() and solved.get_attribute("aria-disabled") == "false"
    assert solved.evaluate(style) == escalate.evaluate(style)
    page.keyboard.press("Escape")
    assert solved.is_disabled() and solved.get_attribute("aria-disabled") == "true"


def test_a_dutch_question_while_the_console_says_english_is_searched_in_dutch(login_browser, users):
    from articles.models import SolutionArticlePage

    battery = SolutionArticlePage.objects.get(external_id="demo-laptop-battery")
    page = login_browser(users["operator"])
    page.goto("/operator/")
    assert page.locator("#locale").input_value() == "en"  # the operator did not switch
    page.locator("#q").fill("mijn laptopbatterij is heel snel leeg")
    page.wait_for_selector("#results .hit")
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('NL')")
    assert first_title(page) == battery.title
    assert "Question in NL" in page.locator("#status").inner_text()
    screenshot(page, "console-dutch-question-english-console-desktop")


def test_typing_on_a_slow_server_sends_one_search_at_a_time_and_ends_on_the_whole_question(
    login_browser, users, slow_search
):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    page.evaluate(
        """() => {
      window.searchesInFlight = 0; window.mostInFlight = 0; window.searchesSent = [];
      const realFetch = window.fetch;
      window.fetch = async (url, options) => {
        const isSearch = String(url).startsWith('/api/v1/search/');
        if (isSearch) {
          window.searchesSent.push(new URL(url, location.href).searchParams.get('q'));
          window.mostInFlight = Math.max(window.mostInFlight, ++window.searchesInFlight);
        }
        try { return await realFetch(url, options); }
        finally { if (isSearch) window.searchesInFlight--; }
      };
    }"""
    )
    # A slow server: the first search waits while the operator types on, a word at a time.
    for text in [
        "sim",
        "sim card",
        "sim card blocked",
        "sim card blocked puk",
        "sim card blocked puk code",
    ]:
        page.locator("#q").fill(text)
        page.wait_for_timeout(450)  # longer than the console's pause (250 ms) before it searches
    slow_search.set()
    page.wait_for_function("() => window.searchesSent.at(-1) === 'sim card blocked puk code'")
    page.wait_for_function("() => window.searchesInFlight === 0")
    page.wait_for_selector("#results:not([aria-busy]) .hit")
    assert page.evaluate("window.mostInFlight") == 1
    # The texts typed while the first search ran were never asked: the newest one went next.
    assert page.evaluate("window.searchesSent") == ["sim", "sim card blocked puk code"]
    assert "PUK" in first_title(page) or "SIM" in first_title(page)


COUNT_SEARCHES = """() => {
  window.searchesSent = [];
  const realFetch = window.fetch;
  window.fetch = (url, options) => {
    if (String(url).startsWith('/api/v1/search/'))
      window.searchesSent.push(new URL(url, location.href).searchParams.get('q'));
    return realFetch(url, options);
  };
}"""


def test_steady_typing_searches_when_the_operator_pauses_not_at_every_key(login_browser, users):
    """Keys 100 ms apart (a steady typist) send no search until the pause after the last
    one; a space after a word already listed asks nothing more."""
    page = login_browser(users["operator"])
    page.goto("/operator/")
    page.evaluate(COUNT_SEARCHES)
    question = "my printer says it is offline"
    page.locator("#q").press_sequentially(question, delay=100)
    page.wait_for_function(f"() => window.searchesSent.at(-1) === {question!r}")
    page.wait_for_selector("#results:not([aria-busy]) .hit")
    assert "rinter" in first_title(page)
    sent = page.evaluate("window.searchesSent")
    # 29 keys: a search per key before; now only where the machine stalled the typing.
    assert len(sent) <= 5, sent
    page.locator("#q").press("End")
    page.locator("#q").press_sequentially(" ")
    page.wait_for_timeout(700)
    assert page.evaluate("window.searchesSent.length") == len(sent)
    assert "stale" not in (page.locator("#results").get_attribute("class") or "")
