"""HTTP entry points of the incidents app: the status page, linking calls and tickets.
Parse input, call the services, shape the answer."""

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from articles.jsonapi import error, json_body, parse_int
from articles.models import SolutionArticlePage

from . import services
from .api_auth import api_key_required
from .models import Deflection, IncidentLink, KnownProblem
from .presenters import problem_view
from .selectors import status_page_problems
from .texts import ui


def status_page(request):
    language = (get_language() or "en")[:2]
    current, recent = status_page_problems()
    if request.GET.get("from") == "banner":
        # The customer followed the banner here: counted per problem it showed (the report
        # lists these apart from the contacts the form prevented).
        shown = {parse_int(v) for v in request.GET.getlist("kp")}
        for problem in current:
            if problem.pk in shown:
                services.record_deflection(problem, language, source=Deflection.SOURCE_BANNER)
        return redirect(request.path)  # a reload of the page is not another click
    return render(
        request,
        "incidents/status_page.html",
        {
            "labels": ui(language),
            "current": [problem_view(p, language) for p in current],
            "recent": [problem_view(p, language) for p in recent],
        },
    )


@api_key_required("link")
@require_POST
def integration_link_api(request):
    """POST {"ticket_reference", "known_problem_id" | "article_id"}: the ticketing system links
    a ticket to a known problem (internal ones too) or to a live article."""
    data = json_body(request)
    if data is None:
        return error("Send the link as a JSON object.")
    if not data.get("ticket_reference"):
        return error("ticket_reference is required.")
    problem = article = None
    if data.get("known_problem_id") not in (None, ""):
        problem = KnownProblem.objects.filter(pk=parse_int(data["known_problem_id"])).first()
        if problem is None:
            return error("No such known problem.", status=404)
    if data.get("article_id") not in (None, ""):
        article = _live_article(parse_int(data["article_id"]))
        if article is None:
            return error("No such article.", status=404)
    try:
        link = services.link(
            known_problem=problem,
            article=article,
            ticket_reference=data["ticket_reference"],
            source=IncidentLink.SOURCE_INTEGRATION,
            api_key=request.api_key,
        )
    except ValidationError as exc:
        return error(" ".join(exc.messages))
    return JsonResponse(
        {
            "id": link.pk,
            "ticket_reference": link.ticket_reference,
            "known_problem_id": link.known_problem_id,
            "article_id": link.article_id,
        },
        status=201,
    )


def _live_article(page_id):

    return SolutionArticlePage.objects.searchable().filter(pk=page_id).first()


@require_POST
def deflected(request):
    """'Yes, that is my problem': the customer does not send the contact request."""
    language = (get_language() or "en")[:2]
    problem = (
        KnownProblem.objects.active()
        .public()
        .filter(pk=parse_int(request.POST.get("known_problem")))
        .first()
    )
    if problem is not None:
        services.record_deflection(problem, language)
    return render(
        request,
        "incidents/deflected.html",
        {"labels": ui(language), "language": language, "problem": problem},
    )
