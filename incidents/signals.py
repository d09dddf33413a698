"""Thin receivers: set up permissions and demo content when the articles app says so; keep
the per-process cache of active known problems honest when a service is edited."""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from articles.demo.loader import demo_data_loaded
from articles.models import Service
from articles.roles import ensure_roles_and_workflow, roles_ensured

from .demo import load_demo_known_problems
from .models import KnownProblem
from .roles import grant_incident_permissions
from .services import note_status_change


@receiver(roles_ensured, sender=ensure_roles_and_workflow)
def on_roles_ensured(sender, groups, **kwargs):

    grant_incident_permissions(groups)


@receiver(demo_data_loaded)
def on_demo_data_loaded(sender, stdout=None, **kwargs):

    created = load_demo_known_problems()
    if stdout:
        stdout.write(f"Demo known problems: {created} created")


@receiver(pre_save, sender=KnownProblem)
def remember_previous_status(sender, instance, **kwargs):
    instance._previous_status = (
        KnownProblem.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=KnownProblem)
def record_status_step(sender, instance, **kwargs):
    previous = getattr(instance, "_previous_status", None)
    if previous != instance.status:
        note_status_change(instance, previous or "", getattr(instance, "_changed_by", None))
        instance._previous_status = instance.status


@receiver(post_save, sender=Service)
def touch_problems_of_an_edited_service(sender, instance, raw=False, **kwargs):
    """Every process keeps the active problems with their services (incidents/matching.py)
    until a problem's updated_at or its service links change: a renamed service (slug, name)
    moves the updated_at of the active problems it affects, so searches filtered to the new
    slug find them. Links and deleted services are in the signature itself."""
    if raw:
        return
    KnownProblem.objects.active().filter(services=instance).update(updated_at=timezone.now())
