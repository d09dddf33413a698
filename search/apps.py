from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    label = "kbsearch"
    verbose_name = "Search, operator console and reports"

    def ready(self):
        post_migrate.connect(grant_privacy_permission, sender=self)


def grant_privacy_permission(sender, using="default", **kwargs):
    """Knowledge managers handle data-subject requests (export, erase): an existing site gets
    the permission on its next `migrate`, a new one from load_initial_data's roles."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.using(using).filter(name="Knowledge managers").first()
    permission = (
        Permission.objects.using(using)
        .filter(content_type__app_label="kbsearch", codename="delete_contactrequest")
        .first()
    )
    if group is not None and permission is not None:
        group.permissions.add(permission)
