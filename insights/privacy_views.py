"""Admin screen for data-subject requests (knowledge managers): look up an e-mail address,
download what is stored about it as JSON, or erase it. The address travels in POST bodies
only, never in a URL (URLs reach access logs and browser history)."""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.views.generic.models import IndexView, InspectView

from . import privacy
from .models import ContactRequest

PERMISSION = f"insights.{privacy.PRIVACY_CODENAME}"


def can_handle_privacy_requests(user):
    return user.is_active and user.has_perm(PERMISSION)


class PrivacyRequestForm(forms.Form):
    email = forms.EmailField(label="E-mail address of the person", max_length=254)
    confirm = forms.BooleanField(
        label="I have checked this person's identity and want to erase their data",
        required=False,
    )


def privacy_request_view(request):
    if not can_handle_privacy_requests(request.user):
        raise PermissionDenied
    contact_id = request.GET.get("contact", "")
    initial = {}
    if contact_id.isdigit() and len(contact_id) < 19:
        contact = ContactRequest.objects.filter(pk=int(contact_id)).first()
        if contact is not None:
            initial["email"] = contact.email
    form = PrivacyRequestForm(request.POST or None, initial=initial)
    context = {"form": form, "summary": None}
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        action = request.POST.get("action")
        if action == "download":
            data = privacy.export(email, user=request.user)
            response = HttpResponse(
                json.dumps(data, indent=2, ensure_ascii=False),
                content_type="application/json; charset=utf-8",
            )
            response["Content-Disposition"] = 'attachment; filename="data-subject-export.json"'
            return response
        if action == "erase":
            if not form.cleaned_data["confirm"]:
                form.add_error("confirm", "Tick the box to confirm the erasure.")
            else:
                counts = privacy.erase(email, user=request.user)
                messages.success(
                    request,
                    "Erased: "
                    + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
                    + f". Logged as {privacy.subject_hash(email)}.",
                )
                return redirect(request.path)
        else:
            context["summary"] = privacy.summary(email)
    return TemplateResponse(request, "insights/admin/privacy_request.html", context)


class ContactRequestIndexView(IndexView):
    """The contact requests listing, with "Export or erase this person's data" on each row
    for those who may handle data-subject requests."""

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if can_handle_privacy_requests(self.request.user):
            url = reverse("privacy-requests:index") + f"?contact={instance.pk}"
            buttons.append(
                MenuItem("Export or erase this person's data", url, icon_name="lock", priority=50)
            )
        return buttons


class ContactRequestInspectView(InspectView):
    """One contact request, with the guided-troubleshooting answers the customer already gave
    (in the operator's wording, the customer's beside it), so nobody asks them again."""

    def get_troubleshooting_display_value(self):
        record = self.object.troubleshooting or {}
        answers = record.get("answers") or []
        if not answers:
            return "—"
        rows = format_html_join(
            "",
            "<li>{} <strong>{}</strong><br><small>{}</small></li>",
            (
                (
                    a.get("operator_question", ""),
                    _("Yes") if a.get("answer") == "yes" else _("No"),
                    _("The customer read: %(question)s") % {"question": a.get("question", "")},
                )
                for a in answers
            ),
        )
        outcome = record.get("outcome")
        if outcome == "step":
            then = _("led to step %(step)s") % {"step": record.get("step")}
        elif outcome == "solved":
            then = _("led to 'solved'")
        elif outcome == "contact":
            then = _("led to escalation: %(team)s") % {"team": record.get("team") or "—"}
        else:
            then = _("stopped before the end of the script")
        return format_html("<p>{}</p><ol>{}</ol><p>{}</p>", record.get("script", ""), rows, then)
