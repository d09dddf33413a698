"""Self-service pages for customers: search, 'was this helpful?', 'still need help?'."""

import re
from urllib.parse import urlencode

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from articles import guide
from articles.jsonapi import parse_int
from articles.models import CategoryPage
from articles.selectors import visible_articles
from incidents.presenters import public_matches
from insights import events
from insights.models import ArticleFeedback, SearchEvent
from textutils.redaction import redact

from . import service
from .ratelimit import GET, POST, rate_limited
from .serializers import public_snippet
from .stopwords import STOPWORDS, content_terms
from .trail import trail_key, with_trail

MAX_COMMENT_CHARS = events.MAX_COMMENT_CHARS


# What a customer reads when their question cannot be searched (the service's own messages
# speak to operators: "Type what the customer is asking about.").
CUSTOMER_QUERY_ERRORS = {
    "empty": _("Type a few words that describe your problem."),
    "too_long": _("Your question is too long: use at most %(max_chars)d characters."),
    "limit": _("Ask for between 1 and 50 results."),
}


def customer_message(exc):
    """The customer-facing wording of an InvalidQuery, in the active language."""
    message = CUSTOMER_QUERY_ERRORS.get(exc.code)
    if message is None:
        return _("We could not search for that. Try other words.")
    return message % exc.params if exc.params else message


def highlight_terms(query, locale):
    """The words of the query worth marking: three letters or more, no function words
    ('mijn', 'des'), longest first."""
    words = set(content_terms(re.findall(r"\w{3,}", query.lower()), locale))
    return sorted(words, key=len, reverse=True)


def highlight(text, query, locale="en"):
    """Escape the snippet, then mark the words of the query in it (at the start of a word,
    so 'des' never lights up inside 'secondes')."""
    html = escape(text)
    words = highlight_terms(query, locale)
    if words:
        alternatives = "|".join(re.escape(w) for w in words)
        pattern = re.compile(r"(?<!\w)(" + alternatives + ")", re.IGNORECASE)
        html = pattern.sub(r"<mark>\1</mark>", html)
    return mark_safe(html)  # noqa: S308 - built from escaped text


@rate_limited("public-search", "60/m", GET)
@with_trail
def search_page(request):
    locale = get_language()
    query = request.GET.get("q", "")
    redacted = redact(query)
    if redacted != query:
        # Keep personal data out of the address bar, history and bookmarks.
        return redirect(f"{request.path}?{urlencode({'q': redacted})}")
    context = {
        "query": query,
        "results": [],
        "error": "",
        "no_good_match": False,
        # For marking words while typing, as highlight() does here.
        "stopwords": " ".join(sorted(STOPWORDS.get(locale, set()) | STOPWORDS["en"])),
    }
    category = _scope(request.GET.get("category"), locale)
    context["category"] = category
    if query.strip():
        trail_key(request)
        try:
            response = service.search(
                query, channel="public", locale=locale, limit=50 if category else 10
            )
        except service.InvalidQuery as exc:
            context["error"] = customer_message(exc)
        else:
            if category is not None:
                # The category page's search box: only articles filed under that topic.
                response.hits = [h for h in response.hits if h.page.path.startswith(category.path)][
                    :10
                ]
            search_id = events.log_search(
                response,
                channel=SearchEvent.CHANNEL_PUBLIC,
                request=request,
                query_vector=service.cached_query_vector(response.query),
            )
            context.update(
                known_problems=public_matches(response.query, locale, response.model_id),
                search_id=search_id,
                no_good_match=response.no_good_match,
                results=[
                    {
                        "hit": h,
                        "snippet": highlight(public_snippet(h), response.query, locale),
                        "url": h.page.get_url(request)
                        + (f"#step-{h.matched_step}" if h.matched_step else ""),
                    }
                    for h in response.hits
                ],
            )
    if context["no_good_match"] or context["error"] or (query.strip() and not context["results"]):
        context["topics"] = (
            CategoryPage.objects.live().public().filter(locale__language_code=locale)
        )
    return render(request, "search/search_page.html", context)


def _scope(raw, locale):
    """The category a search is limited to (the category page's search box), or None."""
    category_id = parse_int(raw)
    if category_id is None:
        return None
    return (
        CategoryPage.objects.live()
        .public()
        .filter(pk=category_id, locale__language_code=locale)
        .first()
    )


@require_POST
@rate_limited("feedback", "10/m", POST)
@with_trail
def feedback(request):
    page = visible_articles(None).filter(pk=parse_int(request.POST.get("article"))).first()
    if page is None:
        raise Http404("No such article")
    helpful = request.POST.get("helpful")
    if helpful not in ("yes", "no"):
        return redirect(page.url)
    record = events.record_feedback(
        article=page,
        locale=get_language(),
        helpful=helpful == "yes",
        session_key=trail_key(request),
    )
    if helpful == "yes":
        return render(
            request, "search/feedback_thanks.html", {"article": page.specific, "helpful": True}
        )
    request.session["feedback_id"] = record.pk
    return redirect(f"/{get_language()}/feedback/{record.pk}/")


class FeedbackDetailsForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What was wrong?"), choices=ArticleFeedback.REASONS, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything else we should know? (optional)"),
        required=False,
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@rate_limited("feedback-page", "60/m", GET)
@rate_limited("feedback", "10/m", POST)
def feedback_details(request, feedback_id):
    # Only the visitor who gave the 'no' may add its reason.
    if request.session.get("feedback_id") != feedback_id:
        raise Http404("No such feedback")
    record = ArticleFeedback.objects.filter(pk=feedback_id).select_related("article").first()
    if record is None:
        raise Http404("No such feedback")
    article = record.article.specific
    form = FeedbackDetailsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        events.add_feedback_details(
            record, reason=form.cleaned_data["reason"], comment=form.cleaned_data["comment"]
        )
        del request.session["feedback_id"]
        return render(
            request, "search/feedback_thanks.html", {"article": article, "helpful": False}
        )
    return render(request, "search/feedback_details.html", {"form": form, "article": article})


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=120)
    email = forms.EmailField(label=_("E-mail address"))
    phone = forms.CharField(label=_("Phone (optional)"), max_length=40, required=False)
    message = forms.CharField(
        label=_("What do you need help with?"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    # Text, parsed leniently: a tampered or stale id means "no article", never an error.
    article = forms.CharField(required=False, widget=forms.HiddenInput)
    # The guided-troubleshooting path on that article (articles/guide.py), re-walked on the
    # server: one that does not fit the article is dropped, never stored as given.
    guide = forms.CharField(required=False, widget=forms.HiddenInput)
    answers = forms.CharField(required=False, widget=forms.HiddenInput)


@rate_limited("contact-page", "60/m", GET)
@rate_limited("contact", "5/10m", POST)
@with_trail
def contact(request):
    session_key = trail_key(request)
    initial = {
        "article": parse_int(request.GET.get("article")),
        "guide": request.GET.get("guide", "")[:4],
        "answers": request.GET.get("answers", "")[:60],
    }
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        article_id = parse_int(data.get("article"))
        article = visible_articles(None).filter(pk=article_id).first() if article_id else None
        troubleshooting = _troubleshooting(article, data.get("guide"), data.get("answers"))
        if request.POST.get("confirm") != "send":
            # A known problem that matches what they wrote may save them the wait.
            matches = public_matches(data["message"], get_language())
            if matches:
                return render(
                    request,
                    "search/contact.html",
                    {
                        "form": form,
                        "known_problems": matches,
                        "article": article,
                        "troubleshooting": troubleshooting,
                    },
                )
        record = events.record_contact_request(
            troubleshooting=troubleshooting,
            locale=get_language(),
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            message=data["message"],
            article=article,
            session_key=session_key,
        )
        return render(request, "search/contact_done.html", {"contact": record})
    article_id = parse_int(form.data.get("article")) if form.is_bound else initial["article"]
    article = visible_articles(None).filter(pk=article_id).first() if article_id else None
    source = form.data if form.is_bound else initial
    troubleshooting = _troubleshooting(article, source.get("guide"), source.get("answers"))
    return render(
        request,
        "search/contact.html",
        {"form": form, "article": article, "troubleshooting": troubleshooting},
    )


def _troubleshooting(article, guide_number, answers):
    """The customer's guided-troubleshooting answers on the article, as the contact request
    keeps them; None when there are none (or they do not fit the article)."""
    return guide.record_for(article.specific if article else None, guide_number, answers)
