"""The three staff roles and the review workflow second-line submissions go through."""

from django.contrib.auth.models import Group, Permission
from django.dispatch import Signal
from wagtail.models import (
    GroupApprovalTask,
    GroupPagePermission,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

OPERATORS = "Operators"
SECOND_LINE = "Second line"
KNOWLEDGE_MANAGERS = "Knowledge managers"
STAFF_GROUPS = (OPERATORS, SECOND_LINE, KNOWLEDGE_MANAGERS)
WORKFLOW_NAME = "Solution review"

_SNIPPET_MODELS = ("service", "servicelevel", "escalationteam")

# Sent with `groups` ({name: Group}) once the staff roles exist, so apps above this one
# (incidents) grant their own permissions without articles knowing them.
roles_ensured = Signal()


def ensure_groups():
    """Create the staff groups if missing; return them by name."""
    return {name: Group.objects.get_or_create(name=name)[0] for name in STAFF_GROUPS}


def _perm(app_label, codename):
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def ensure_roles_and_workflow(kb_roots):
    """Give each group its permissions on the knowledge-base trees and attach the review workflow."""
    groups = ensure_groups()
    admin_access = _perm("wagtailadmin", "access_admin")
    operators, second_line, managers = (
        groups[OPERATORS],
        groups[SECOND_LINE],
        groups[KNOWLEDGE_MANAGERS],
    )

    for model in _SNIPPET_MODELS:
        operators.permissions.add(_perm("articles", f"view_{model}"))
        second_line.permissions.add(_perm("articles", f"view_{model}"))
        for action in ("add", "change", "delete", "view"):
            managers.permissions.add(_perm("articles", f"{action}_{model}"))
    for group in (second_line, managers):
        group.permissions.add(admin_access)
        for app, model in (("wagtailimages", "image"), ("wagtaildocs", "document")):
            group.permissions.add(_perm(app, f"add_{model}"), _perm(app, f"choose_{model}"))
    managers.permissions.add(
        _perm("wagtailimages", "change_image"), _perm("wagtaildocs", "change_document")
    )
    # What customers send (contact requests, feedback) is for the staff who act on it.
    for group in (second_line, managers):
        for codename in (
            "view_contactrequest",
            "change_contactrequest",
            "view_articlefeedback",
            "change_articlefeedback",
            "view_calloutcome",
        ):
            group.permissions.add(_perm("insights", codename))
    # Data-subject requests (export, erase) are the knowledge managers' call.
    managers.permissions.add(_perm("insights", "delete_contactrequest"))
    # Wagtail's "Translate" (a draft copy in another language), used from the
    # missing-translations report; they already add and publish pages in every language.
    managers.permissions.add(_perm("simple_translation", "submit_translation"))

    # Second line writes the next articles from the recurring-problem and gap reports.
    for group in (second_line, managers):
        group.permissions.add(_perm("insights", "view_reports"))

    page_perms = {
        second_line: ("add_page", "change_page"),
        managers: (
            "add_page",
            "change_page",
            "publish_page",
            "delete_page",
            "lock_page",
            "unlock_page",
        ),
    }
    for root in kb_roots:
        for group, codenames in page_perms.items():
            for codename in codenames:
                GroupPagePermission.objects.get_or_create(
                    group=group, page=root, permission=_perm("wagtailcore", codename)
                )

    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    task = GroupApprovalTask.objects.filter(name="Knowledge manager review").first()
    if task is None:
        task = GroupApprovalTask.objects.create(name="Knowledge manager review")
    task.groups.set([managers])
    # workflow_tasks is a ParentalKey relation: create rows directly so they are saved now.
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    for root in kb_roots:
        WorkflowPage.objects.update_or_create(page=root, defaults={"workflow": workflow})
    roles_ensured.send(sender=ensure_roles_and_workflow, groups=groups)
    return groups


def can_review_learned_phrasings(user, page):
    """Knowledge managers, superusers and the article's owner (user or owning group) review
    the wordings calls taught the search about an article."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser or user.groups.filter(name=KNOWLEDGE_MANAGERS).exists():
        return True
    if getattr(page, "owner_user_id", None) and page.owner_user_id == user.pk:
        return True
    owner_group_id = getattr(page, "owner_group_id", None)
    return bool(owner_group_id) and user.groups.filter(pk=owner_group_id).exists()
