"""Review API for learned phrasings, used by the article editor's panel (Wagtail admin).
Parse, check who may review, call insights.learning. No logic here."""

import json

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from articles.models import SolutionArticlePage
from articles.roles import can_review_learned_phrasings

from . import learning
from .models import LearnedPhrasing


def _error(message, status=400):
    return JsonResponse({"error": message}, status=status)


def _reviewable(request, page_id):
    page = SolutionArticlePage.objects.filter(pk=page_id).first()
    if page is None or not can_review_learned_phrasings(request.user, page):
        # 400, not 404: outside /api/ the locale middleware turns 404s into redirects.
        return None
    return page


@require_GET
def learned_phrasings(request, page_id):
    page = _reviewable(request, page_id)
    if page is None:
        return _error("No such article, or you do not review its learned wordings.")
    return JsonResponse(
        {
            "results": [
                {
                    "id": p.pk,
                    "text": p.text,
                    "calls": p.calls,
                    "sources": p.sources,
                    "languages": p.languages,
                    "searchable": p.status == LearnedPhrasing.ACTIVE,
                    "last_seen": p.last_seen.isoformat(),
                    "review_url": reverse("learned_phrasing_review", args=[p.pk]),
                }
                for p in learning.for_review(page.pk)
            ]
        }
    )


@require_POST
def review_learned_phrasing(request, phrasing_id):
    phrasing = LearnedPhrasing.objects.filter(pk=phrasing_id).first()
    if phrasing is None or _reviewable(request, phrasing.article_id) is None:
        return _error("No such learned wording, or you do not review this article.")
    try:
        action = json.loads(request.body or b"{}").get("action")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        action = None
    if action not in ("promote", "reject"):
        return _error("action must be promote or reject.")
    if phrasing.status not in (LearnedPhrasing.ACTIVE, LearnedPhrasing.CANDIDATE):
        return _error("This wording was already reviewed or retired.")
    learning.review(phrasing, action, request.user)
    return JsonResponse({"id": phrasing.pk, "status": phrasing.status})
