"""Admin view: declare a known problem in one action from a topic of the knowledge-gap or
recurring-problem reports (title and example phrasings come from the report's form)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from wagtail.admin.admin_url_finder import AdminURLFinder

from .models import LANGUAGES, KnownProblem

MAX_EXAMPLES = 10


@require_POST
def declare_from_topic(request):
    if not request.user.has_perm("incidents.add_knownproblem"):
        raise PermissionDenied
    title = " ".join(str(request.POST.get("title", "")).split())[:200]
    if not title:
        messages.error(request, "A known problem needs a title.")
        return redirect(request.POST.get("next") or "wagtailadmin_home")
    language = request.POST.get("locale")
    language = language if language in LANGUAGES else "en"
    examples = [" ".join(p.split())[:300] for p in request.POST.getlist("phrasing")][:MAX_EXAMPLES]
    problem = KnownProblem(
        status=KnownProblem.STATUS_INVESTIGATING,
        is_public=False,
        internal_notes="Declared from a report topic. What callers said:\n"
        + "\n".join(f"- {e}" for e in examples if e),
        **{f"title_{language}": title},
    )
    problem._changed_by = request.user
    problem.save()
    messages.success(
        request,
        "Known problem declared (internal, investigating): add the customer texts and "
        "services, then make it public.",
    )
    return redirect(AdminURLFinder(request.user).get_edit_url(problem))
