"""How the search answers a past question today: the knowledge-gap report's "answered since"
rule (insights/gaps.py). insights sits below search in the layers, so search registers this
function there when the apps load (apps.py), and the report never imports search."""

from django.contrib.auth import get_user_model

from .service import InvalidQuery, search


def _staff_reader():
    # Operator and API questions were asked by staff, who also see internal articles: an
    # unsaved superuser reads what any staff reader may (nothing is written for it).
    return get_user_model()(username="kb-gap-report", is_superuser=True, is_active=True)


def first_answer(text, *, locale, public):
    """(translation key of the first result or None, confidence, no_good_match) of the
    search `text` gets now, as a customer (`public`) or as staff; None when the search
    rejects the text (too long, nothing searchable)."""
    try:
        response = search(
            text,
            user=None if public else _staff_reader(),
            channel="public" if public else "operator",
            locale=locale,
            limit=1,
        )
    except InvalidQuery:
        return None
    key = str(response.hits[0].page.translation_key) if response.hits else None
    return key, response.confidence, response.no_good_match
