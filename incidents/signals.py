"""Thin receivers: set up permissions and demo content when the articles app says so."""

from django.dispatch import receiver

from articles.demo.loader import demo_data_loaded
from articles.roles import ensure_roles_and_workflow, roles_ensured


@receiver(roles_ensured, sender=ensure_roles_and_workflow)
def on_roles_ensured(sender, groups, **kwargs):
    from .roles import grant_incident_permissions

    grant_incident_permissions(groups)


@receiver(demo_data_loaded)
def on_demo_data_loaded(sender, stdout=None, **kwargs):
    from .demo import load_demo_known_problems

    created = load_demo_known_problems()
    if stdout:
        stdout.write(f"Demo known problems: {created} created")
