"""Admin views: declare a known problem (from an early warning or a report topic, on the
create form prefilled), the early-warning list, and the integration API keys screen."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import ListingButton
from wagtail.snippets.views.snippets import CreateView, IndexView

from articles.jsonapi import parse_int
from articles.models import Service

from . import early_warnings, services
from .models import ApiKey, EarlyWarning

MAX_EXAMPLES = 10


def can_see_early_warnings(user):
    return user.is_authenticated and user.has_perm("incidents.view_earlywarning")


@require_POST
def declare_from_topic(request):
    """Declare at once (internal, investigating) from a POSTed topic; kept for scripts. The
    report screens open the prefilled create form instead (`declare_url`)."""
    if not request.user.has_perm("incidents.add_knownproblem"):
        raise PermissionDenied
    title = " ".join(str(request.POST.get("title", "")).split())[:200]
    if not title:
        messages.error(request, _("A known problem needs a title."))
        return redirect(request.POST.get("next") or "wagtailadmin_home")
    problem = early_warnings.prefilled_problem(
        title=title,
        language=request.POST.get("locale"),
        examples=request.POST.getlist("phrasing")[:MAX_EXAMPLES],
    )
    problem._changed_by = request.user
    problem.save()
    messages.success(
        request,
        _(
            "Known problem declared (internal, investigating): add the customer texts and "
            "services, then make it public."
        ),
    )
    return redirect(AdminURLFinder(request.user).get_edit_url(problem))


def declare_url(*, title="", locale="", examples=(), services=(), early_warning=None):
    """The known-problem create form, prefilled with a topic (GET parameters)."""
    add = reverse("wagtailsnippets_incidents_knownproblem:add")
    if early_warning is not None:
        return f"{add}?{urlencode({'early_warning': early_warning})}"
    params = [("title", title), ("locale", locale)]
    params += [("phrasing", e) for e in list(examples)[:MAX_EXAMPLES]]
    params += [("service", s) for s in services]
    return f"{add}?{urlencode(params)}"


class KnownProblemCreateView(CreateView):
    """The create form, prefilled from an early warning (`?early_warning=ID`) or a report topic
    (`?title=&locale=&phrasing=…&service=…`); saving it links the warning to the problem."""

    def early_warning(self):
        pk = parse_int(self.request.GET.get("early_warning"))
        return EarlyWarning.objects.filter(pk=pk).first() if pk else None

    def get_add_url(self):
        url = super().get_add_url()
        if self.request.GET.get("early_warning"):
            sep = "&" if "?" in url else "?"
            url += sep + urlencode({"early_warning": self.request.GET["early_warning"]})
        return url

    def get_initial_form_instance(self):
        if self.request.method != "GET":
            return super().get_initial_form_instance()
        warning = self.early_warning()
        if warning is not None:
            return early_warnings.prefilled_from_warning(warning)
        query = self.request.GET
        if query.get("title"):
            ids = [parse_int(s) for s in query.getlist("service")]
            return early_warnings.prefilled_problem(
                title=query["title"],
                language=query.get("locale", ""),
                examples=query.getlist("phrasing"),
                services=Service.objects.filter(pk__in=[i for i in ids if i]),
            )
        return super().get_initial_form_instance()

    def save_instance(self):
        problem = super().save_instance()
        warning = self.early_warning()
        if warning is not None and warning.status == EarlyWarning.STATUS_OPEN:
            early_warnings.declare(warning, problem, self.request.user)
        return problem


class EarlyWarningListView(WagtailAdminTemplateMixin, TemplateView):
    """Open early warnings with their examples, 'Declare known problem' and 'Dismiss'."""

    template_name = "incidents/admin/early_warnings.html"
    page_title = gettext_lazy("Early warnings")
    header_icon = "warning"

    def dispatch(self, request, *args, **kwargs):
        if not can_see_early_warnings(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        show_all = self.request.GET.get("status") == "all"
        warnings = EarlyWarning.objects.select_related("known_problem").prefetch_related("services")
        if not show_all:
            warnings = warnings.open()
        context["warnings"] = [
            {"warning": w, "declare_url": declare_url(early_warning=w.pk)} for w in warnings[:200]
        ]
        context["show_all"] = show_all
        context["can_declare"] = self.request.user.has_perm("incidents.add_knownproblem")
        context["can_dismiss"] = self.request.user.has_perm("incidents.change_earlywarning")
        return context


@require_POST
def dismiss_early_warning(request, pk):
    if not request.user.has_perm("incidents.change_earlywarning"):
        raise PermissionDenied
    warning = get_object_or_404(EarlyWarning, pk=pk)
    if warning.status == EarlyWarning.STATUS_OPEN:
        early_warnings.dismiss(warning, request.user)
        messages.success(request, _("Early warning “%(topic)s” dismissed.") % {"topic": warning})
    return redirect("incidents_early_warnings")


# --- Integration API keys ----------------------------------------------------------------


class ApiKeyForm(WagtailAdminModelForm):
    """Name and scopes; the key itself is made on save and shown once."""

    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=ApiKey.SCOPES,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("What the integration may do with this key."),
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]


class ApiKeyIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if instance.revoked_at is None and self.request.user.has_perm("incidents.change_apikey"):
            buttons.append(
                ListingButton(
                    _("Revoke"),
                    url=reverse("incidents_revoke_api_key", args=[instance.pk]),
                    icon_name="bin",
                    priority=30,
                )
            )
        return buttons


def revoke_api_key(request, pk):
    """GET: confirm; POST: revoke. A revoked key is refused by the API from then on."""
    if not request.user.has_perm("incidents.change_apikey"):
        raise PermissionDenied
    key = get_object_or_404(ApiKey, pk=pk)
    if request.method == "POST":
        services.revoke_api_key(key)
        messages.success(
            request,
            _("API key “%(name)s” revoked: the integration can no longer use it.")
            % {"name": key.name},
        )
        return redirect("wagtailsnippets_incidents_apikey:list")
    return TemplateResponse(request, "incidents/admin/revoke_api_key.html", {"key": key})
