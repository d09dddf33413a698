"""HTTP entry points of the authoring loop: parse input, call the services, shape the answer.

Public-site/console APIs (staff, CSRF): POST /api/v1/flags/, POST /api/v1/captures/.
Admin views (registered in wagtail_hooks under /admin/articles/): similar articles while
writing, reject a flag, archive an article, and the two reports.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from embeddings.encoder import EncoderUnavailable

from .authoring import DraftError, create_wip_article, likely_category
from .flags import FlagError, raise_flag, reject_flag
from .jsonapi import error, json_body, parse_int, staff_only
from .lifecycle import archive_article
from .models import ArticleFlag, SolutionArticlePage
from .selectors import visible_articles
from .similarity import duplicate_threshold, similar_articles
from .visibility import user_is_staff_reader

MAX_QUERY_CHARS = 600
MAX_NOTE_CHARS = 1000
MAX_TITLE_CHARS = 255
MAX_ISSUE_CHARS = 5000


# --- flag it (operator console, article page) ------------------------------------------


@require_POST
def flag_api(request):
    """Raise a flag on an article: JSON from the console, or a plain form from the article page."""
    is_json = request.content_type == "application/json"
    if is_json:
        denied = staff_only(request)
        if denied:
            return denied
        data = json_body(request)
        if data is None:
            return error(_("Send the flag as a JSON object."))
    else:
        if not request.user.is_authenticated:
            return redirect_to_login(request.POST.get("next") or "/")
        if not user_is_staff_reader(request.user):
            raise PermissionDenied(_("Only helpdesk staff may flag articles."))
        data = request.POST
    article = visible_articles(request.user).filter(pk=parse_int(data.get("article_id"))).first()
    if article is None:
        return error(_("No such article."), status=404) if is_json else _not_found()
    default_source = ArticleFlag.SOURCE_CONSOLE if is_json else ArticleFlag.SOURCE_ARTICLE_PAGE
    source = str(data.get("source") or default_source)
    if source not in (ArticleFlag.SOURCE_CONSOLE, ArticleFlag.SOURCE_ARTICLE_PAGE):
        source = default_source  # customer-feedback flags come only from the feedback itself
    try:
        flag = raise_flag(
            article=article,
            reason=str(data.get("reason") or ""),
            comment=data.get("comment") or "",
            user=request.user,
            source=source,
        )
    except FlagError as exc:
        if is_json:
            return error(str(exc))
        return render(
            request,
            "articles/flag_result.html",
            {"article": article, "error": str(exc)},
            status=400,
        )
    if is_json:
        return JsonResponse(
            {
                "id": flag.pk,
                "status": flag.status,
                "owner": flag.owner_display,
                "message": _("Flag sent to the article's owner."),
            },
            status=201,
        )
    return render(request, "articles/flag_result.html", {"article": article, "flag": flag})


def _not_found():
    raise Http404("No such article")


# --- capture from the call -------------------------------------------------------------


@require_POST
def capture_api(request):
    """An operator's "no article found" call becomes a WIP draft for second line."""
    denied = staff_only(request)
    if denied:
        return denied
    data = json_body(request)
    if data is None:
        return error(_("Send the call as a JSON object."))
    if not all(
        isinstance(data.get(key) or "", str) for key in ("query", "note", "locale", "service")
    ):
        return error(_("The query, the note, the locale and the service must be text."))
    query, note = str(data.get("query") or ""), str(data.get("note") or "")
    if len(query) > MAX_QUERY_CHARS or len(note) > MAX_NOTE_CHARS:
        return error(_("The query or the note is too long."))
    locale = str(data.get("locale") or getattr(request, "LANGUAGE_CODE", "en"))
    service = str(data.get("service") or "")[:80]
    try:
        # Into the likely category (the service's, else the best-matching article's), so
        # second line finds it where it belongs instead of at the top of the language tree.
        parent = likely_category(locale, [query, note], service_slug=service)
        page = create_wip_article(
            phrasings=[query, note], locale=locale, user=request.user, title=query, parent=parent
        )
    except DraftError as exc:
        return error(str(exc))
    owner = page.owner_group.name if page.owner_group_id else ""
    return JsonResponse(
        {
            "id": page.pk,
            "title": page.title,
            "locale": page.locale.language_code,
            "kcs_state": page.kcs_state,
            "owner": owner,
            "category": page.get_parent().title,
            "message": _("Draft created for %(owner)s: %(title)s")
            % {"owner": owner, "title": page.title},
        },
        status=201,
    )


# --- admin: similar articles while writing ----------------------------------------------


@require_GET
def similar_articles_api(request):
    title = request.GET.get("title", "")
    issue = request.GET.get("issue", "")
    if len(title) > MAX_TITLE_CHARS or len(issue) > MAX_ISSUE_CHARS:
        return error(_("The title or the issue is too long to compare."))
    page = None
    if request.GET.get("page_id"):
        page = SolutionArticlePage.objects.filter(pk=parse_int(request.GET["page_id"])).first()
        if page is None or not page.permissions_for_user(request.user).can_edit():
            # 400, not 404: outside /api/ the locale middleware turns 404s into redirects.
            return error(_("No such article."), status=400)
    try:
        results = similar_articles(title, issue, page=page, user=request.user, limit=8)
    except EncoderUnavailable as exc:
        return error(str(exc), status=503)
    return JsonResponse(
        {
            "threshold": duplicate_threshold(),
            "results": [
                {
                    "id": s.page.pk,
                    "title": s.page.title,
                    "locale": s.page.locale.language_code,
                    "live": s.page.live,
                    "kcs_state": s.page.kcs_state,
                    "score": round(s.score, 3),
                    "is_translation": s.is_translation,
                    # "mine": the editor's own unpublished draft (often this article's own
                    # earlier autosave); "abandoned": untouched for weeks. Never duplicates.
                    "draft_status": s.draft_status,
                    "is_duplicate": s.is_duplicate
                    and not s.is_translation
                    and s.page.kcs_state != SolutionArticlePage.KCS_ARCHIVED,
                    "edit_url": reverse("wagtailadmin_pages:edit", args=[s.page.pk]),
                }
                for s in results
            ],
        }
    )


# --- admin: flags and archive ---------------------------------------------------------


def _safe_next(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def reject_flag_view(request, flag_id):
    flag = get_object_or_404(ArticleFlag.objects.select_related("article"), pk=flag_id)
    if not flag.article.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    error = ""
    if request.method == "POST":
        try:
            reject_flag(flag, user=request.user, note=request.POST.get("note", ""))
        except FlagError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Flag rejected."))
            return redirect(_safe_next(request, reverse("articles_flagged_report")))
    return render(
        request,
        "articles/admin/reject_flag.html",
        {"flag": flag, "error": error, "next": _safe_next(request, "")},
        status=400 if error else 200,
    )


def archive_article_view(request, page_id):
    page = get_object_or_404(SolutionArticlePage, pk=page_id)
    if not page.permissions_for_user(request.user).can_publish():
        raise PermissionDenied
    if request.method == "POST":
        archive_article(page, user=request.user)
        messages.success(
            request,
            _("'%(title)s' is archived: it left search; its history is kept.")
            % {"title": page.title},
        )
        return redirect("wagtailadmin_pages:edit", page.pk)
    return render(request, "articles/admin/archive_article.html", {"page": page})
