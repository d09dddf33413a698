"""The active known problems are kept per process (incidents/matching.py, `_ActiveProblems`)
and read again only when their signature changes. Changing a problem's services without
saving the problem's row (the m2m committed alone, the service's side of the relation, the
through table, a service renamed, also by a bulk update, or deleted) must reach the
operator's search at once: a search filtered to a service shows the problems affecting it,
and no longer shows one whose service was taken off."""

import pytest

from articles.models import Service
from incidents import matching
from incidents.models import KnownProblem

pytestmark = [pytest.mark.model, pytest.mark.django_db]

QUESTION = "customer calls about his device"


@pytest.fixture
def e301():
    problem = KnownProblem.objects.get(title_en__startswith="TV decoder error E-301")
    assert [s.slug for s in problem.services.all()] == ["tv-decoder"]
    return problem


@pytest.fixture
def printing():
    return Service.objects.get(slug="printing", locale__language_code="en")


def problems_for(operator, service, question=QUESTION):
    """Known problems the operator's search shows when filtered to `service` (a slug)."""
    response = operator.get("/api/v1/search/", {"q": question, "locale": "en", "service": service})
    assert response.status_code == 200
    return {p["id"]: p for p in response.json()["known_problems"]}


def test_services_committed_without_saving_the_problem_row_show_it_and_hide_it(
    operator, e301, printing
):
    """`services` is a ParentalManyToManyField: `problem.services.add(x)` alone only changes
    the instance in memory; `save(update_fields=["services"])` writes the m2m rows and leaves
    the problem's row (and its updated_at) as it was."""
    assert e301.pk not in problems_for(operator, "printing")  # the process now caches e301

    e301.services.add(printing)
    e301.save(update_fields=["services"])
    assert KnownProblem.objects.filter(pk=e301.pk, services=printing).exists()
    shown = problems_for(operator, "printing")
    assert e301.pk in shown
    assert shown[e301.pk]["matched_by"] == "service"
    assert "printing" in [s["slug"] for s in shown[e301.pk]["services"]]

    e301.services.remove(printing)
    e301.save(update_fields=["services"])
    assert e301.pk not in problems_for(operator, "printing")


def test_a_link_written_in_the_through_table_or_from_the_service_side_counts(
    operator, e301, printing
):
    assert e301.pk not in problems_for(operator, "printing")
    KnownProblem.services.through.objects.create(knownproblem=e301, service=printing)
    assert e301.pk in problems_for(operator, "printing")

    KnownProblem.services.through.objects.filter(knownproblem=e301, service=printing).delete()
    assert e301.pk not in problems_for(operator, "printing")

    # From the service's side (its reverse relation), as a service screen would.
    printing.known_problems.add(e301)
    assert e301.pk in problems_for(operator, "printing")
    printing.known_problems.clear()
    assert e301.pk not in problems_for(operator, "printing")


def test_a_renamed_service_is_matched_by_its_new_slug_and_shown_by_its_new_name(operator, e301):
    assert e301.pk in problems_for(operator, "tv-decoder")
    tv = e301.services.get()
    tv.slug, tv.name = "tv-box", "TV box and decoder"
    tv.save()

    shown = problems_for(operator, "tv-box")
    assert e301.pk in shown
    assert [s["name"] for s in shown[e301.pk]["services"]] == ["TV box and decoder"]
    assert e301.pk not in problems_for(operator, "tv-decoder")


def test_a_service_renamed_by_a_bulk_update_is_matched_by_its_new_slug(operator, e301):
    """`QuerySet.update()` (admin actions, data migrations, a shell) sends no signal."""
    assert e301.pk in problems_for(operator, "tv-decoder")  # the process now caches e301
    tv = e301.services.get()
    Service.objects.filter(pk=tv.pk).update(slug="tv-box", name="TV box and decoder")

    shown = problems_for(operator, "tv-box")
    assert e301.pk in shown
    assert shown[e301.pk]["matched_by"] == "service"
    assert [s["name"] for s in shown[e301.pk]["services"]] == ["TV box and decoder"]
    assert e301.pk not in problems_for(operator, "tv-decoder")


def test_a_deleted_service_leaves_the_problems_it_affected(operator, e301, printing):
    printing.known_problems.add(e301)
    assert e301.pk in problems_for(operator, "printing")
    printing.delete()
    shown = problems_for(operator, "printing")
    assert e301.pk not in shown
    # Still active, matched by its error code, now listing only the decoder.
    by_code = problems_for(operator, "tv-decoder", "decoder shows E-301")
    assert [s["slug"] for s in by_code[e301.pk]["services"]] == ["tv-decoder"]


def test_an_unchanged_active_set_is_not_read_again(operator, e301, django_assert_num_queries):
    active = list(KnownProblem.objects.active().order_by("pk").values_list("pk", flat=True))
    matching._active.get()  # filled
    with django_assert_num_queries(1):  # the signature only, on every search
        cached = matching._active.get()
    assert [p.pk for p in cached] == active
