"""Thin receivers: set up permissions and demo content when the articles app says so; record
a known problem's status steps. (An edited service needs none: the active problems' cache
signature holds its slug and name, incidents/matching.py.)"""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from articles.demo.loader import demo_data_loaded
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
