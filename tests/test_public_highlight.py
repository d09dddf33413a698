"""Marked words in self-service results: the customer's own content words, not 'mijn' or 'des'."""

import pytest

from search.public_views import highlight


def test_function_words_are_not_marked():
    html = highlight("Mijn printer staat offline", "mijn printer doet niks meer", "nl")
    assert html == "Mijn <mark>printer</mark> staat offline"


def test_words_are_marked_only_where_a_word_starts():
    html = highlight("Attendez 10 secondes, des dossiers", "quantique secondes dossiers", "fr")
    assert html == "Attendez 10 <mark>secondes</mark>, des <mark>dossiers</mark>"
    assert "se<mark>" not in highlight("10 secondes", "condes", "fr")


def test_a_question_of_only_function_words_still_marks_them():
    assert (
        highlight("Waar is mijn factuur", "waar mijn", "nl")
        == "<mark>Waar</mark> is <mark>mijn</mark> factuur"
    )


def test_the_snippet_is_escaped_before_marking():
    assert highlight("<b>printer</b>", "printer", "en") == "&lt;b&gt;<mark>printer</mark>&lt;/b&gt;"


@pytest.mark.model
@pytest.mark.django_db
def test_dutch_results_page_does_not_mark_mijn(client):
    html = client.get("/nl/search/", {"q": "mijn printer doet niks meer"}).content.decode()
    assert "<mark>rinter" in html.replace("<mark>P", "<mark>p").replace("<mark>p", "<mark>")
    assert "<mark>mijn</mark>" not in html.lower()
