"""Writes for the authoring loop: turn what callers said into a work-in-progress article.

Used by "capture from the call" (an operator's "no article found" note) and by the
knowledge-gap report's "create draft article" action. Everything that arrives here comes
from a caller or a customer, so it is redacted again before it is stored (redaction is
idempotent), whatever the caller of this function already did.
"""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from wagtail.models import Locale

from textutils.redaction import redact

from .importing import _unique_slug, kb_home_for
from .models import SolutionArticlePage
from .roles import SECOND_LINE

MAX_PHRASINGS = 12
MAX_PHRASING_LENGTH = 300


class DraftError(ValueError):
    """The draft cannot be created; the message says why, for the person who asked."""


def _clean_phrasings(phrasings):
    seen, cleaned = set(), []
    for raw in phrasings:
        line = " ".join(redact(str(raw or "")).split())
        line = Truncator(line).chars(MAX_PHRASING_LENGTH)
        key = line.casefold()
        if line and key not in seen:
            seen.add(key)
            cleaned.append(line)
        if len(cleaned) == MAX_PHRASINGS:
            break
    return cleaned


@transaction.atomic
def create_wip_article(
    *,
    phrasings,
    locale,
    title="",
    user=None,
    cause_note="",
    owner_group_name=SECOND_LINE,
):
    """Create an unpublished, work-in-progress solution article and return it.

    `phrasings` become the issue (one per line, personal data redacted, duplicates
    dropped); `title` defaults to the first phrasing. The draft is owned by the
    second-line group (and by `user` if they can edit in the admin; an operator's capture
    goes to the group), so it shows up in their work, and is
    saved as a revision: nothing is published or indexed until it goes through review.
    """
    cleaned = _clean_phrasings(phrasings)
    if not cleaned:
        raise DraftError(_("Give at least one phrasing of the problem."))
    language = locale.language_code if isinstance(locale, Locale) else str(locale or "")
    locale_obj = Locale.objects.filter(language_code=language).first()
    if locale_obj is None:
        raise DraftError(_("Unknown language: %(language)s") % {"language": language})
    home = kb_home_for(locale_obj)
    if home is None:
        raise DraftError(
            _("There is no knowledge base for %(language)s yet.") % {"language": language}
        )
    title = " ".join(redact(title or "").split()) or cleaned[0]
    title = Truncator(title).chars(120)

    page = SolutionArticlePage(
        title=title,
        locale=locale_obj,
        live=False,
        owner=user,
        issue="\n".join(cleaned),
        cause=redact(cause_note or ""),
        audience=SolutionArticlePage.AUDIENCE_INTERNAL,
        kcs_state=SolutionArticlePage.KCS_WIP,
        owner_user=user
        if user is not None and user.has_perm("wagtailadmin.access_admin")
        else None,
        owner_group=Group.objects.filter(name=owner_group_name).first(),
    )
    page.slug = _unique_slug(home, title)
    home.add_child(instance=page)
    page.save_revision(user=user, log_action=True, clean=False, changed=True)
    return page
