"""Editor steps around saving a solution article (called from wagtail_hooks): the duplicate
check before publishing or submitting, and what follows a save. Rules live in lifecycle.py."""

from django.shortcuts import render

from embeddings.encoder import EncoderUnavailable

from .lifecycle import link_as_translation, on_published, translation_taken
from .models import SolutionArticlePage
from .similarity import likely_duplicates

CONFIRM_FIELD = "kb-duplicate-confirmed"
TRANSLATION_FIELD = "kb-translation-of"
GUARDED_ACTIONS = ("action-publish", "action-submit")


def _guarded_post(request):
    return request.method == "POST" and any(request.POST.get(a) for a in GUARDED_ACTIONS)


def duplicate_confirmation(request, page, locale):
    """Before publishing or submitting an article that looks like an existing one: a page that
    asks to confirm, link to it or make this a translation of it (None: carry on saving)."""
    if not _guarded_post(request) or request.POST.get(CONFIRM_FIELD):
        return None
    try:
        duplicates = likely_duplicates(
            request.POST.get("title", ""),
            request.POST.get("issue", ""),
            page=page,
            user=request.user,
        )
    except EncoderUnavailable:
        return None  # no model: the editor's own judgement, as before this check existed
    if not duplicates:
        return None
    fields = [
        (key, value)
        for key, values in request.POST.lists()
        if key != "csrfmiddlewaretoken" and not key.startswith("kb-")
        for value in values
    ]
    action = "publish" if request.POST.get("action-publish") else "submit"
    total = int(request.POST.get("related_links-TOTAL_FORMS") or 0)
    options = []
    for dup in duplicates:
        link_fields = [(k, v) for k, v in fields if k != "related_links-TOTAL_FORMS"] + [
            ("related_links-TOTAL_FORMS", str(total + 1)),
            (f"related_links-{total}-related_page", str(dup.page.pk)),
            (f"related_links-{total}-id", ""),
            (f"related_links-{total}-ORDER", str(total + 1)),
        ]
        can_translate = dup.page.locale_id != locale.pk and not translation_taken(
            dup.page.translation_key, locale.pk, exclude_pk=getattr(page, "pk", None)
        )
        options.append(
            {
                "similar": dup,
                "percent": round(dup.score * 100),
                "link_fields": link_fields,
                "can_translate": can_translate,
            }
        )
    draft_fields = [(k, v) for k, v in fields if k not in GUARDED_ACTIONS]
    return render(
        request,
        "articles/admin/confirm_duplicate.html",
        {
            "action": action,
            "action_field": "action-publish" if action == "publish" else "action-submit",
            "fields": fields,
            "draft_fields": draft_fields,
            "options": options,
            "confirm_field": CONFIRM_FIELD,
            "translation_field": TRANSLATION_FIELD,
            "post_url": request.get_full_path(),
            "title": request.POST.get("title", ""),
        },
    )


def after_editor_save(request, page):
    """After the editor saved an article: link it as a translation if the duplicate page asked
    for it, and treat a reviewer's direct publish as an approval."""
    if not isinstance(page.specific, SolutionArticlePage) or request.method != "POST":
        return
    page = SolutionArticlePage.objects.get(pk=page.pk)
    other_id = request.POST.get(TRANSLATION_FIELD)
    if other_id and other_id.isdigit():
        other = SolutionArticlePage.objects.filter(pk=int(other_id)).first()
        if other is not None:
            link_as_translation(page, other)
    if request.POST.get("action-publish") and page.live and not page.has_unpublished_changes:
        # A reviewer published directly: that is an approval.
        on_published(page)
