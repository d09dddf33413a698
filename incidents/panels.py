"""Admin panel: a known problem's status history, read-only, on its edit screen."""

from wagtail.admin.panels import Panel


class StatusHistoryPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "incidents/admin/status_history_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            problem = self.instance
            context["changes"] = (
                problem.status_changes.select_related("changed_by") if problem.pk else []
            )
            context["links"] = problem.links.count() if problem.pk else 0
            return context
