"""Writes for the authoring loop: turn what callers said into a work-in-progress article.

Used by "capture from the call" (an operator's "no article found" note) and by the
knowledge-gap report's "create draft article" action. Everything that arrives here comes
from a caller or a customer, so it is redacted again before it is stored (redaction is
idempotent), whatever the caller of this function already did.
"""

from collections import Counter

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from wagtail.models import Locale

from embeddings.encoder import EncoderUnavailable
from textutils.redaction import redact

from .importing import _unique_slug, kb_home_for
from .models import CategoryPage, SolutionArticlePage
from .roles import SECOND_LINE
from .similarity import similar_articles

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


def _category_in(locale_obj, page):
    """The category `page` sits in, as the version in `locale_obj` (None if there is none)."""
    parent = page.get_parent().specific if page is not None else None
    if not isinstance(parent, CategoryPage):
        return None
    if parent.locale_id != locale_obj.pk:
        parent = parent.get_translation_or_none(locale_obj)
    return parent


def likely_category(locale, phrasings, *, service_slug="", near_article_id=None):
    """Where a new draft about `phrasings` most likely belongs in `locale`'s tree: the
    category most of the chosen service's articles are in, else the category of a given
    article (a gap topic's closest one), else that of the best-matching article in any
    language. None (the language's knowledge-base home) when nothing points anywhere."""
    locale_obj = (
        locale
        if isinstance(locale, Locale)
        else Locale.objects.filter(language_code=str(locale or "")).first()
    )
    if locale_obj is None:
        return None
    articles = SolutionArticlePage.objects.live().exclude(
        kcs_state=SolutionArticlePage.KCS_ARCHIVED
    )
    if service_slug:
        in_service = articles.filter(services__slug=service_slug).distinct()
        votes = Counter()
        for page in in_service:
            category = _category_in(locale_obj, page)
            if category is not None:
                votes[category.pk] += 1
        if votes:
            return CategoryPage.objects.get(pk=votes.most_common(1)[0][0])
    if near_article_id:
        category = _category_in(locale_obj, articles.filter(pk=near_article_id).first())
        if category is not None:
            return category
    cleaned = _clean_phrasings(phrasings)
    if not cleaned:
        return None
    try:
        similar = similar_articles(cleaned[0], "\n".join(cleaned), limit=5)
    except EncoderUnavailable:
        return None
    for match in similar:
        if match.page.live and match.page.kcs_state != SolutionArticlePage.KCS_ARCHIVED:
            category = _category_in(locale_obj, match.page)
            if category is not None:
                return category
    return None


@transaction.atomic
def create_wip_article(
    *,
    phrasings,
    locale,
    title="",
    user=None,
    cause_note="",
    owner_group_name=SECOND_LINE,
    parent=None,
):
    """Create an unpublished, work-in-progress solution article and return it.

    `phrasings` become the issue (one per line, personal data redacted, duplicates
    dropped); `title` defaults to the first phrasing. The draft is owned by the
    second-line group (and by `user` if they can edit in the admin; an operator's capture
    goes to the group), so it shows up in their work, and is
    saved as a revision: nothing is published or indexed until it goes through review.
    `parent`: the category to create it in (see likely_category); the language's
    knowledge-base home when None.
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
    # A category of this language's tree (likely_category), else the top of the tree.
    if parent is None or parent.locale_id != locale_obj.pk or not parent.is_descendant_of(home):
        parent = home
    page.slug = _unique_slug(parent, title)
    parent.add_child(instance=page)
    page.save_revision(user=user, log_action=True, clean=False, changed=True)
    return page
