"""Writes for flags: raise, close on republish, reject. A flag is a task for the article's owner."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from textutils.redaction import redact
from textutils.sanitize import sanitize_text

from .models import ArticleFlag, SolutionArticlePage

MAX_COMMENT_CHARS = 1000

# Customer feedback reasons (insights.models.ArticleFeedback.REASONS) -> flag reasons.
FEEDBACK_REASONS = {
    "outdated": ArticleFlag.REASON_OUTDATED,
    "did_not_work": ArticleFlag.REASON_INCORRECT,
    "hard_to_follow": ArticleFlag.REASON_UNCLEAR,
    # "Not my problem": the issue did not make clear what the article is about.
    "not_my_problem": ArticleFlag.REASON_UNCLEAR,
}


class FlagError(ValueError):
    """The flag cannot be raised or changed; the message says why."""


def clean_comment(comment):
    comment = str(comment or "")
    if len(comment) > MAX_COMMENT_CHARS:
        raise FlagError(
            _("The comment is too long: at most %(n)d characters.") % {"n": MAX_COMMENT_CHARS}
        )
    return redact(sanitize_text(comment, MAX_COMMENT_CHARS))


def raise_flag(*, article, reason, comment="", user=None, source, feedback=None):
    if reason not in dict(ArticleFlag.REASONS):
        raise FlagError(_("Choose a reason: outdated, incorrect, missing step or unclear."))
    if source not in dict(ArticleFlag.SOURCES):
        raise FlagError(_("Unknown source of the flag."))
    return ArticleFlag.objects.create(
        article=article,
        reason=reason,
        comment=clean_comment(comment),
        raised_by=user if user is not None and user.is_authenticated else None,
        source=source,
        feedback=feedback,
    )


def flag_from_feedback(feedback):
    """Not-helpful customer feedback with a comment becomes a flag (once per feedback)."""
    if feedback.helpful or not (feedback.comment or "").strip():
        return None
    if ArticleFlag.objects.filter(feedback=feedback).exists():
        return None
    article = SolutionArticlePage.objects.filter(pk=feedback.article_id).first()
    if article is None:
        return None
    return raise_flag(
        article=article,
        reason=FEEDBACK_REASONS.get(feedback.reason, ArticleFlag.REASON_UNCLEAR),
        comment=feedback.comment,
        source=ArticleFlag.SOURCE_CUSTOMER_FEEDBACK,
        feedback=feedback,
    )


def close_flags_on_publish(article, user=None):
    """Republishing the article answers its open flags."""
    return (
        ArticleFlag.objects.open()
        .filter(article_id=article.pk)
        .update(
            status=ArticleFlag.STATUS_CLOSED,
            closed_by=user if user is not None and user.is_authenticated else None,
            closed_at=timezone.now(),
            resolution_note=_("Closed by republishing the article."),
        )
    )


@transaction.atomic
def reject_flag(flag, *, user, note):
    note = " ".join(str(note or "").split())
    if not note:
        raise FlagError(_("Say why the flag is rejected."))
    flag = ArticleFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status != ArticleFlag.STATUS_OPEN:
        raise FlagError(
            _("This flag is already %(status)s.") % {"status": flag.get_status_display()}
        )
    flag.status = ArticleFlag.STATUS_REJECTED
    flag.closed_by = user
    flag.closed_at = timezone.now()
    flag.resolution_note = sanitize_text(note, MAX_COMMENT_CHARS)
    flag.save(update_fields=["status", "closed_by", "closed_at", "resolution_note"])
    return flag
