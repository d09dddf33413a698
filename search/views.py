"""HTTP entry points: parse input, call the services, shape the answer. No logic here."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from articles.jsonapi import error, json_body, parse_int, staff_only
from articles.models import EscalationTeam, Service, ServiceLevel
from articles.selectors import visible_articles
from articles.visibility import user_is_staff_reader
from insights import events
from insights.models import CallOutcome, SearchClick, SearchEvent
from textutils.sanitize import sanitize_text

from . import console, service
from .public_views import customer_message
from .ratelimit import rate_limited
from .serializers import article_card, response_to_dict

MAX_NOTE_CHARS = 1000


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
@rate_limited("public-search-api", limit=120, window_seconds=60, json=True)
def public_search_api(request):
    if not request.session.session_key:
        request.session.save()  # ties the search trail to a later contact request
    try:
        query, locale, limit = _search_params(request)
        response = service.search(query, user=None, channel="public", locale=locale, limit=limit)
    except service.InvalidQuery as exc:
        with translation.override(request.GET.get("locale") or translation.get_language()):
            return error(str(customer_message(exc)))
    data = response_to_dict(response, request)
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
    data = response_to_dict(
        response, request, request.GET.get("level"), include_internal_details=True
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
    )
    return JsonResponse(data)


@require_GET
def article_card_api(request, page_id):
    denied = staff_only(request)
    if denied:
        return denied
    page = visible_articles(request.user).filter(pk=page_id).specific().first()
    if page is None:
        return error("No such article.", status=404)
    level = (
        ServiceLevel.objects.filter(code=request.GET.get("level") or "")
        .prefetch_related("targets")
        .first()
    )
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
        return error("outcome must be solved, escalated or no_article.")
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
    )
    return JsonResponse({"id": record.pk, "outcome": record.outcome}, status=201)


@csrf_exempt  # analytics only; checked against the caller's own search below
@require_POST
@rate_limited("clicks", limit=120, window_seconds=60, json=True)
def click_api(request):
    """Record that a result was opened: {search_id, article_id, position}."""
    data = json_body(request)
    if data is None:
        return error("Send the click as a JSON object.")
    event = SearchEvent.objects.filter(pk=parse_int(data.get("search_id"))).first()
    own = event is not None and (
        (event.user_id and event.user_id == request.user.pk)
        or (
            not event.user_id
            and event.session_key
            and event.session_key == request.session.session_key
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
