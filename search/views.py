"""HTTP entry points: parse input, call the services, shape the answer. No logic here."""

import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from articles.jsonapi import error, json_body, parse_int, staff_only
from articles.models import EscalationTeam, Service, ServiceLevel
from articles.selectors import visible_articles
from articles.visibility import user_is_staff_reader
from incidents.api_auth import api_key_required
from incidents.matching import known_problems_for_search
from incidents.models import KnownProblem
from incidents.services import clean_ticket_reference
from incidents.texts import ui as known_problem_labels
from insights import events
from insights.models import CallOutcome, SearchClick, SearchEvent
from textutils.sanitize import sanitize_text

from . import console, service
from .public_views import customer_message
from .ratelimit import GET, POST, rate_limited
from .serializers import article_card, response_to_dict
from .trail import TRAIL_COOKIE, trail_key, with_trail

MAX_NOTE_CHARS = 1000
LEVEL_CODE = re.compile(r"[-a-zA-Z0-9_]{1,40}")
LEVEL_ERROR = "level must be the code of a service level, such as 'premium'."


class SearchJsonResponse(JsonResponse):
    """A search's answer whose log row (events.log_search(defer=True)) is written once the
    answer has been sent: the WSGI server calls close() after the last byte, before the
    worker takes its next request. Written before request_finished's handlers run, so on this
    request's database connection (which they may close)."""

    def close(self):
        events.write_pending_searches()
        super().close()


def _search_params(request):
    query = request.GET.get("q", "")
    locale = request.GET.get("locale") or getattr(request, "LANGUAGE_CODE", "en")
    try:
        limit = int(request.GET.get("limit", 10))
    except ValueError as exc:
        raise service.InvalidQuery(
            "limit must be a whole number between 1 and 50.", code="limit"
        ) from exc
    if not 1 <= limit <= 50:
        raise service.InvalidQuery("limit must be a whole number between 1 and 50.", code="limit")
    return query, locale, limit


@require_GET
@rate_limited("public-search-api", "120/m", GET, json=True)
@with_trail
def public_search_api(request):
    trail_key(request)  # ties the search trail to a later contact request; no session row
    try:
        query, locale, limit = _search_params(request)
        response = service.search(query, user=None, channel="public", locale=locale, limit=limit)
    except service.InvalidQuery as exc:
        with translation.override(request.GET.get("locale") or translation.get_language()):
            return error(str(customer_message(exc)))
    data = response_to_dict(response, request)
    data["known_problems"] = known_problems_for_search(
        response.query, channel="public", language=response.locale, model_id=response.model_id
    )
    data["search_id"] = events.log_search(
        response,
        channel=SearchEvent.CHANNEL_PUBLIC,
        request=request,
        query_vector=service.cached_query_vector(response.query),
    )
    return JsonResponse(data)


@require_GET
def operator_search_api(request):
    denied = staff_only(request)
    if denied:
        return denied
    level = request.GET.get("level") or None
    if level is not None and not LEVEL_CODE.fullmatch(level):
        return error(LEVEL_ERROR)
    try:
        query, locale, limit = _search_params(request)
        response = service.search(
            query,
            user=request.user,
            channel="operator",
            locale=locale,
            service=request.GET.get("service") or None,
            limit=limit,
        )
    except service.InvalidQuery as exc:
        return error(str(exc))
    data = response_to_dict(response, request, level, include_internal_details=True)
    data["known_problems"] = known_problems_for_search(
        response.query,
        channel="operator",
        language=response.locale,
        service=request.GET.get("service") or None,
        model_id=response.model_id,
    )
    channel = (
        SearchEvent.CHANNEL_OPERATOR
        if request.GET.get("source") == "console"
        else SearchEvent.CHANNEL_API
    )
    data["search_id"] = events.log_search(
        response,
        channel=channel,
        request=request,
        query_vector=service.cached_query_vector(response.query),
        defer=True,
    )
    return SearchJsonResponse(data)


@api_key_required("suggest")
@require_http_methods(["GET", "POST"])
def integration_suggestions_api(request):
    """For the ticketing system: articles and known problems for a ticket's text.
    GET ?text=&locale=&limit= or POST {"text", "locale", "limit"}; staff visibility."""
    if request.method == "POST":
        params = json_body(request)
        if params is None:
            return error("Send the ticket as a JSON object.")
    else:
        params = request.GET
    locale = str(params.get("locale") or "en")
    try:
        limit = int(params.get("limit") or 5)
    except (TypeError, ValueError):
        return error("limit must be a whole number between 1 and 50.")
    if not 1 <= limit <= 50:
        return error("limit must be a whole number between 1 and 50.")
    try:
        response = service.search(
            params.get("text"), user=None, channel="integration", locale=locale, limit=limit
        )
    except service.InvalidQuery as exc:
        return error(str(exc))
    data = response_to_dict(response, request, include_internal_details=True)
    data["known_problems"] = known_problems_for_search(
        response.query, channel="operator", language=response.locale, model_id=response.model_id
    )
    return JsonResponse(data)


@require_GET
def article_card_api(request, page_id):
    denied = staff_only(request)
    if denied:
        return denied
    page_id = parse_int(page_id)
    page = page_id and visible_articles(request.user).filter(pk=page_id).specific().first()
    if not page:
        return error("No such article.", status=404)
    code = request.GET.get("level") or ""
    if code and not LEVEL_CODE.fullmatch(code):
        return error(LEVEL_ERROR)
    level = ServiceLevel.objects.filter(code=code).prefetch_related("targets").first()
    return JsonResponse(article_card(page, request, level))


@require_POST
def outcome_api(request):
    denied = staff_only(request)
    if denied:
        return denied
    data = json_body(request)
    if data is None:
        return error("Send the outcome as a JSON object.")
    outcome = data.get("outcome")
    if not isinstance(outcome, str) or outcome not in dict(CallOutcome.OUTCOMES):
        return error("outcome must be solved, escalated, no_article or known_problem.")
    for key in ("query", "note", "locale"):
        if not isinstance(data.get(key) or "", str):
            return error(f"{key} must be text.")
    article = team = None
    if data.get("article_id") not in (None, ""):
        article = (
            visible_articles(request.user).filter(pk=parse_int(data.get("article_id"))).first()
        )
        if article is None:
            return error("No such article.", status=404)
    if outcome == CallOutcome.SOLVED and article is None:
        return error("Say which article solved the call.")
    if outcome == CallOutcome.ESCALATED:
        team = EscalationTeam.objects.filter(pk=parse_int(data.get("team_id"))).first()
        if team is None:
            return error("Choose the team the call was escalated to.")
    problem = None
    if outcome == CallOutcome.KNOWN_PROBLEM:
        problem = (
            KnownProblem.objects.active().filter(pk=parse_int(data.get("known_problem_id"))).first()
        )
        if problem is None:
            return error("No such active known problem.", status=404)
    try:
        ticket_reference = clean_ticket_reference(data.get("ticket_reference"))
    except ValidationError as exc:
        return error(" ".join(exc.messages))
    note = str(data.get("note") or "")
    if len(note) > MAX_NOTE_CHARS:
        return error(f"The note is too long: at most {MAX_NOTE_CHARS} characters.")
    record = events.record_outcome(
        user=request.user,
        outcome=outcome,
        query=sanitize_text(str(data.get("query") or ""), 600),
        locale=str(data.get("locale") or ""),
        article=article,
        team=team,
        note=sanitize_text(note),
        search_event_id=parse_int(data.get("search_id")),
        ticket_reference=ticket_reference,
        known_problem=problem,
    )
    return JsonResponse(
        {"id": record.pk, "outcome": record.outcome, "ticket_reference": ticket_reference},
        status=201,
    )


@csrf_exempt  # analytics only; checked against the caller's own search below
@require_POST
@rate_limited("clicks", "120/m", POST, json=True)
def click_api(request):
    """Record that a result was opened: {search_id, article_id, position}."""
    data = json_body(request)
    if data is None:
        return error("Send the click as a JSON object.")
    event = events.find_search(parse_int(data.get("search_id")))
    own = event is not None and (
        (event.user_id and event.user_id == request.user.pk)
        or (
            not event.user_id
            and event.session_key
            and event.session_key
            in (request.COOKIES.get(TRAIL_COOKIE), request.session.session_key)
        )
    )
    article_id, position = parse_int(data.get("article_id")), parse_int(data.get("position"))
    if not own or article_id not in event.result_page_ids:
        return error("No such search result.", status=404)
    if position is None or not 1 <= position <= len(event.result_page_ids):
        return error("position must be the result's rank, starting at 1.")
    click = SearchClick.objects.create(search_event=event, article_id=article_id, position=position)
    return JsonResponse({"id": click.pk}, status=201)


@login_required
def operator_console(request):
    if not user_is_staff_reader(request.user):
        return render(request, "operator/forbidden.html", status=403)
    ui_language = console.operator_language(request)
    translation.activate(ui_language)
    request.LANGUAGE_CODE = ui_language
    context = {
        "labels": console.labels(),
        "ui_language": ui_language,
        "service_levels": ServiceLevel.objects.all(),
        "services": Service.objects.filter(locale__language_code=ui_language),
        "teams": EscalationTeam.objects.all(),
        "kp_labels": known_problem_labels(ui_language),
        "languages": console.console_languages(),
    }
    response = render(request, "operator/console.html", context)
    return console.set_language_cookie(response, ui_language)


@login_required
@require_POST
def operator_language(request):
    """The operator picks the console's language; it is remembered on their profile."""
    if not user_is_staff_reader(request.user):
        return render(request, "operator/forbidden.html", status=403)
    language = request.POST.get("language", "")
    if not console.remember_language(request.user, language):
        return error("language must be one of: " + ", ".join(dict(console.console_languages())))
    return console.set_language_cookie(redirect("operator_console"), language)
