"""Who may do what with known problems (granted when the staff roles are set up)."""

from django.contrib.auth.models import Permission

from articles.roles import KNOWLEDGE_MANAGERS, SECOND_LINE


def _perm(codename):
    return Permission.objects.get(content_type__app_label="incidents", codename=codename)


def grant_incident_permissions(groups):
    """Second line and knowledge managers declare and update known problems and see the
    linked calls and tickets; knowledge managers also run the ticketing integration."""
    second_line, managers = groups[SECOND_LINE], groups[KNOWLEDGE_MANAGERS]
    for group in (second_line, managers):
        for action in ("add", "change", "view"):
            group.permissions.add(_perm(f"{action}_knownproblem"))
        group.permissions.add(_perm("view_incidentlink"))
        # Early warnings: seen on the admin home and in their list, declared or dismissed.
        for action in ("change", "view"):
            group.permissions.add(_perm(f"{action}_earlywarning"))
    managers.permissions.add(_perm("delete_knownproblem"))
    # Keys are created in the admin or with `manage.py create_api_key` (shown once), listed
    # and revoked in the admin; never deleted (the links made with them keep their key).
    for action in ("add", "change", "view"):
        managers.permissions.add(_perm(f"{action}_apikey"))
    for action in ("add", "change", "delete", "view"):
        managers.permissions.add(_perm(f"{action}_webhookendpoint"))
    managers.permissions.add(_perm("view_webhookdelivery"))
