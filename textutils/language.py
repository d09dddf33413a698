"""The language a question is written in, so a Dutch question typed while the console's
customer language still says English is served by the model that understands Dutch.

py3langid (a maintained fork of langid.py: a naive Bayes model over byte n-grams, 4.6 MB,
numpy only, ~0.1 ms a question) restricted to the languages callers use here. Short or
mixed text is left to the caller's stated language: the detector must be at least
`KB_LANGUAGE_DETECTION_MIN_PROBABILITY` sure (0.9, chosen on the demo gold's tune half
with every prefix of every question: bench/language_detection.py). German, which the
site has no content in, has a lower bar of its own (0.8): its short console prefixes
("kein internet", "drucker druckt nicht mehr") seldom reach 0.9, and below it a German
question is served by the stated language's model (English: MiniLM, which knows no German).
Chosen with the same rule on a tune half of the German gold's prefixes, checked against the
nl/fr/en prefixes of both demo halves (none taken for German at 0.8):
bench/language_detection.py, "German".
"""

import functools

from django.conf import settings

DEFAULT_LANGUAGES = ("en", "nl", "fr", "de")  # Belgium's three official languages + English
DEFAULT_MIN_PROBABILITY = 0.9
# Bars per detected language, where lower than the general one (KB_LANGUAGE_DETECTION_BARS).
DEFAULT_BARS = {"de": 0.8}


def _languages():
    return tuple(getattr(settings, "KB_QUESTION_LANGUAGES", DEFAULT_LANGUAGES))


@functools.lru_cache(maxsize=4)
def _identifier(languages):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def detect(text):
    """(language, probability) among KB_QUESTION_LANGUAGES, or (None, 0.0) for no text."""
    text = (text or "").strip()
    languages = _languages()
    if not text or len(languages) < 2:
        return (None, 0.0)
    language, probability = _identifier(languages).classify(text)
    return (language, float(probability))


def question_language(text, stated):
    """The language `text` is written in when the detector is sure, else `stated` (the
    language the caller chose: the console's customer language, the public page's)."""
    language, probability = detect(text)
    if language and probability >= min_probability(language):
        return language
    return stated


def min_probability(language):
    """How sure the detector must be to take `language` over the stated one."""
    bar = getattr(settings, "KB_LANGUAGE_DETECTION_MIN_PROBABILITY", DEFAULT_MIN_PROBABILITY)
    bars = getattr(settings, "KB_LANGUAGE_DETECTION_BARS", DEFAULT_BARS)
    return min(bar, bars.get(language, bar))
