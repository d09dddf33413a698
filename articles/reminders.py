"""Review-due reminders: an e-mail to each article owner listing their validated articles whose
review date has passed, once per article and review date.

The reminder is written into the page's history (Wagtail log action `kb.review_reminder`,
with the review date it was about), which is also how the next run knows it was sent: a
new review date (after the article is reviewed and republished) gets a new reminder.
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import PageLogEntry

from .lifecycle import reviews_due

logger = logging.getLogger("kb.reminders")

ACTION = "kb.review_reminder"


def owners_of(page):
    """Who is reminded: the owning user, else the members of the owning group (with an e-mail)."""
    if page.owner_user_id:
        candidates = [page.owner_user]
    elif page.owner_group_id:
        candidates = get_user_model().objects.filter(groups=page.owner_group_id, is_active=True)
    else:
        candidates = []
    return [u for u in candidates if u.is_active and u.email]


def _already_reminded(page):
    return PageLogEntry.objects.filter(
        page=page, action=ACTION, data__review_date=page.next_review_date.isoformat()
    ).exists()


def send_review_reminders(today=None):
    """Send what is owed; return the number of e-mails sent."""
    today = today or timezone.localdate()
    by_owner = defaultdict(list)
    for page in reviews_due(today).select_related("owner_user", "owner_group"):
        if _already_reminded(page):
            continue
        owners = owners_of(page)
        if not owners:
            logger.info("article %s is due for review but has no owner with an e-mail", page.pk)
            continue
        for owner in owners:
            by_owner[owner].append(page)
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    reminded = {}
    for owner, pages in by_owner.items():
        lines = [
            f"- {p.title} (review was due {p.next_review_date:%Y-%m-%d}): "
            f"{base}/admin/pages/{p.pk}/edit/"
            for p in pages
        ]
        send_mail(
            subject=f"{len(pages)} knowledge-base article(s) due for review",
            message=(
                f"Hello {owner.get_full_name() or owner.get_username()},\n\n"
                "These articles you own have passed their review date. Check that they are "
                "still right and republish them (or archive them):\n\n" + "\n".join(lines) + "\n"
            ),
            from_email=None,
            recipient_list=[owner.email],
        )
        for page in pages:
            reminded.setdefault(page, []).append(owner.get_username())
    for page, usernames in reminded.items():
        log(
            instance=page,
            action=ACTION,
            data={"review_date": page.next_review_date.isoformat(), "owners": usernames},
        )
    logger.info("sent %s review reminders about %s articles", len(by_owner), len(reminded))
    return len(by_owner)
