"""HTTP entry points: parse input, call search.service, shape the answer. No logic here."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from articles.models import ServiceLevel
from articles.visibility import user_is_staff_reader

from . import service
from .serializers import response_to_dict


def _error(message, status=400):
    return JsonResponse({"error": message}, status=status)


def _search_params(request):
    query = request.GET.get("q", "")
    locale = request.GET.get("locale") or getattr(request, "LANGUAGE_CODE", "en")
    try:
        limit = int(request.GET.get("limit", 10))
    except ValueError as exc:
        raise service.InvalidQuery("limit must be a whole number between 1 and 50.") from exc
    if not 1 <= limit <= 50:
        raise service.InvalidQuery("limit must be a whole number between 1 and 50.")
    return query, locale, limit


@require_GET
def public_search_api(request):
    try:
        query, locale, limit = _search_params(request)
        response = service.search(query, user=None, channel="public", locale=locale, limit=limit)
    except service.InvalidQuery as exc:
        return _error(str(exc))
    return JsonResponse(response_to_dict(response, request))


@require_GET
def operator_search_api(request):
    if not request.user.is_authenticated:
        return _error("Log in as an operator to use this API.", status=401)
    if not user_is_staff_reader(request.user):
        return _error("Only helpdesk staff may use this API.", status=403)
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
        return _error(str(exc))
    return JsonResponse(
        response_to_dict(response, request, request.GET.get("level"), include_internal_details=True)
    )


@login_required
def operator_console(request):
    if not user_is_staff_reader(request.user):
        return render(request, "operator/forbidden.html", status=403)
    return render(request, "operator/console.html", {"service_levels": ServiceLevel.objects.all()})
