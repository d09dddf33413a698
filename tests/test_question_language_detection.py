"""Which language a question is in (textutils/language.py): German, which the site has no
content in, is taken from 0.8 sure (bench/language_detection.py, "German"), so short German
console prefixes reach the multilingual model instead of the stated language's; nl/fr/en
keep the general bar, and a Dutch word the detector half takes for German stays Dutch."""

import pytest

from textutils.language import detect, question_language


@pytest.mark.parametrize("text", ["internet funktioniert", "bildschirm", "mein passwort"])
def test_a_short_german_prefix_between_the_two_bars_is_german(text):
    language, probability = detect(text)
    assert language == "de" and 0.8 <= probability < 0.9
    assert question_language(text, "en") == "de"


@pytest.mark.parametrize(
    "text, stated", [("scherm", "nl"), ("vpn erreur", "fr"), ("printer offline", "en")]
)
def test_short_nl_fr_en_prefixes_keep_the_stated_language(text, stated):
    assert question_language(text, stated) == stated


def test_without_a_german_bar_the_general_one_decides(settings):
    settings.KB_LANGUAGE_DETECTION_BARS = {}
    assert question_language("bildschirm", "en") == "en"
