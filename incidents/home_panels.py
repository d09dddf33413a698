"""Admin home-page panel: the open early warnings, for second line and knowledge managers."""

from django.urls import reverse
from wagtail.admin.ui.components import Component

from .models import EarlyWarning


class EarlyWarningHomePanel(Component):
    name = "early_warnings"
    order = 5
    template_name = "incidents/admin/early_warning_home_panel.html"

    def get_context_data(self, parent_context=None):
        warnings = EarlyWarning.objects.open()
        return {
            "count": warnings.count(),
            "warnings": list(warnings[:5]),
            "list_url": reverse("incidents_early_warnings"),
        }
