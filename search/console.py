"""The operator console's language and strings.

Every string goes through gettext (translations in locale/*/LC_MESSAGES/django.po). The
language an operator works in is remembered on their Wagtail user profile (the same
preference the admin uses, so one person has one working language everywhere), and sent
along as Django's language cookie so the console's API calls answer in it too."""

import re

from django.conf import settings
from django.utils import translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.users.models import UserProfile

from articles.models import ArticleFlag


def console_languages():
    """(code, name in its own language) for the languages the console speaks."""
    return [
        (code, translation.get_language_info(code)["name_local"])
        for code, _name in settings.LANGUAGES
    ]


def operator_language(request):
    """The operator's remembered language, else the one Django reads from the request."""
    codes = dict(settings.LANGUAGES)
    preferred = UserProfile.get_for_user(request.user).preferred_language
    if preferred in codes:
        return preferred
    language = translation.get_language_from_request(request)
    return language if language in codes else settings.LANGUAGE_CODE


def remember_language(user, language):
    """Store the operator's choice; False when the console does not speak that language."""
    if language not in dict(settings.LANGUAGES):
        return False
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save(update_fields=["preferred_language"])
    return True


def set_language_cookie(response, language):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


_WEEKDAY = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b")
_ENGLISH_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def localize_hours(text):
    """'Mon–Fri 08:00–18:00' as written in the catalogue, with the day names in the active
    language (Django's own translated weekday abbreviations: 'ma–vr', 'lun–ven')."""
    if not text:
        return text
    return _WEEKDAY.sub(lambda m: str(WEEKDAYS_ABBR[_ENGLISH_WEEKDAYS.index(m.group(1))]), text)


# Strings the console's JavaScript needs (the template translates its own).
def labels():
    return {
        "search_label": _("What is the customer asking?"),
        "placeholder": _("Type while you listen…"),
        "customer_language": _("Customer language"),
        "contract": _("Contract"),
        "no_contract": _("— contract —"),
        "service": _("Service"),
        "all_services": _("All services"),
        "no_results": _("No article found."),
        "no_good_match": _("No good match: ask another question, or record “no article found”."),
        # The same words the self-service search page uses for a result in another language.
        "only_in": _("Only available in %(lang)s"),
        # The question is clearly in another language than the customer language chosen.
        "question_in": _("Question in %(lang)s"),
        "internal": _("internal"),
        "steps": _("Resolution"),
        "diagnosis": _("Diagnosis script"),
        "yes": _("Yes"),
        "no": _("No"),
        "go_to_step": _("Go to step"),
        "next_question": _("Next question"),
        "escalate_to": _("Escalate to"),
        "solved": _("Solved"),
        "coverage": _("Contract coverage"),
        "covered": _("Covered"),
        "not_covered": _("Not covered"),
        "response": pgettext_lazy("SLA target", "response"),
        "resolution": pgettext_lazy("SLA target", "resolution"),
        "escalation_team": _("Escalation team"),
        "copy_link": _("Copy self-service link"),
        "copied": _("Link copied"),
        "outcome_solved": _("Solved with this article"),
        "outcome_escalated": _("Escalated to"),
        "outcome_no_article": _("No article found"),
        "note": _("Short note"),
        "save": _("Save"),
        "saved": {
            "solved": _("Saved: solved with this article"),
            "escalated": _("Saved: escalated"),
            "no_article": _("Saved: no article found"),
        },
        "choose_contract": _("Choose the customer's contract to see coverage."),
        "keys": _(
            "↑↓ choose · Enter open · Esc back to search · Alt+S solved · Alt+E escalate · "
            "Alt+N no article · Alt+F flag · Alt+D draft"
        ),
        "cause": _("Cause"),
        "environment": _("Applies to"),
        "results": _("Results"),
        "open_page": _("Open page"),
        "flag": _("Flag this article"),
        "flag_reason": _("What is wrong?"),
        "flag_reasons": dict(ArticleFlag.REASONS),
        "flag_comment": _("Comment for the owner"),
        "flag_send": _("Send flag"),
        "flag_sent": _("Flag sent to the article's owner"),
        "capture": _("Create draft from this call"),
        "capture_done": _("Draft sent to second line"),
        "capture_hint": _("Second line completes and publishes it; you cannot edit it yourself."),
    }
