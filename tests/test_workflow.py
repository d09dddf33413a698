import pytest
from wagtail.models import WorkflowState

from tests.conftest import new_article


@pytest.fixture
def draft(db, users):
    page = new_article(
        "network-vpn-wifi",
        "Reconnect the cable.",
        title="Docking station shows no second screen",
        issue="second monitor stays black",
        audience="public",
        owner=users["secondline"],
    )
    page.save_revision(user=users["secondline"])
    return page


def test_second_line_has_no_publish_permission(draft, users):
    assert not draft.permissions_for_user(users["secondline"]).can_publish()
    assert draft.permissions_for_user(users["manager"]).can_publish()


def test_editor_offers_second_line_review_but_not_publish(client, draft, users):
    url = f"/admin/pages/{draft.pk}/edit/"
    client.force_login(users["secondline"])
    html = client.get(url).content.decode()
    assert 'name="action-submit"' in html
    assert 'name="action-publish"' not in html
    client.force_login(users["manager"])
    assert 'name="action-publish"' in client.get(url).content.decode()


def test_submission_goes_through_review_and_a_manager_approves(draft, users):
    workflow = draft.get_workflow()
    assert workflow is not None and workflow.name == "Solution review"
    state = workflow.start(draft, users["secondline"])
    draft.refresh_from_db()
    assert not draft.live
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    task_state = state.current_task_state
    assert task_state.task.specific.user_can_access_editor(draft, users["manager"])
    task_state.task.specific.on_action(task_state, users["manager"], "approve")
    draft.refresh_from_db()
    assert draft.live
