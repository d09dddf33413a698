import pytest
from django.core.exceptions import ValidationError
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.models import PageViewRestriction

from articles.blocks import DiagnosisActionBlock, DiagnosisScriptBlock
from articles.models import CategoryPage, ServiceLevel, ServiceLevelTarget, SolutionArticlePage
from tests.conftest import publish


def _new_article(parent, **overrides):
    values = {
        "title": "Headset crackles during calls",
        "issue": "my headset makes a crackling noise\nI hear static on every call",
        "audience": "public",
        "resolution": [
            (
                "step",
                {
                    "instruction": "<p>Unplug the headset and plug it in again.</p>",
                    "expected_result": "The static is gone.",
                },
            )
        ],
    }
    values.update(overrides)
    page = SolutionArticlePage(**values)
    parent.add_child(instance=page)
    return page


def _script(*questions):
    return {"title": "Check the headset", "questions": list(questions)}


def _q(key, yes, no):
    return {"key": key, "question": f"Question {key}?", "yes": yes, "no": no}


def _go(step=None, question="", action=None, team=None):
    action = action or ("step" if step else "question" if question else "solved")
    return {"action": action, "step": step, "question": question, "team": team}


@pytest.fixture
def category(db):
    return CategoryPage.objects.get(slug="printers-hardware", locale__language_code="en")


def test_article_without_any_issue_phrasing_is_rejected(category):
    page = _new_article(category)
    page.issue = "  \n \n"
    with pytest.raises(ValidationError) as exc:
        page.full_clean()
    assert "issue" in exc.value.message_dict


def test_issue_phrasings_are_one_per_line(category):
    page = _new_article(category, issue="first way to say it\n\n  second way  \n")
    assert page.issue_phrasings == ["first way to say it", "second way"]


def test_diagnosis_leading_to_a_missing_step_is_rejected(category):
    page = _new_article(category)
    page.resolution = [
        ("step", {"instruction": "<p>Only step</p>", "expected_result": ""}),
        ("diagnosis", _script(_q("q1", _go(step=3), _go(action="solved")))),
    ]
    with pytest.raises(ValidationError) as exc:
        page.full_clean()
    assert "step 3" in str(exc.value)


def test_diagnosis_script_with_unknown_question_or_loop_is_rejected():
    block = DiagnosisScriptBlock()
    unknown = block.to_python(_script(_q("q1", _go(question="q9"), _go(action="solved"))))
    with pytest.raises(ValidationError, match="unknown question q9"):
        block.clean(unknown)
    loop = block.to_python(
        _script(
            _q("q1", _go(question="q2"), _go(action="solved")),
            _q("q2", _go(question="q1"), _go(action="solved")),
        )
    )
    with pytest.raises(ValidationError, match="loop"):
        block.clean(loop)


def test_escalation_answer_needs_a_team():
    block = DiagnosisActionBlock()
    with pytest.raises(StructBlockValidationError):
        block.clean(
            block.to_python({"action": "escalate", "step": None, "question": "", "team": None})
        )


def test_resolution_target_shorter_than_response_is_rejected(db):
    level = ServiceLevel.objects.get(code="basic")
    target = ServiceLevelTarget(
        service_level=level, priority="P1", response_minutes=60, resolution_minutes=30
    )
    with pytest.raises(ValidationError):
        target.clean()


def test_external_id_is_unique_per_language(category, article):
    existing = article("demo-printer-offline")
    with pytest.raises(ValidationError) as exc:
        _new_article(category, external_id=existing.external_id)
    assert "external_id" in exc.value.message_dict
    # The same id in another language is a translation, which is allowed.
    nl_category = CategoryPage.objects.get(slug="printers-hardware", locale__language_code="fr")
    assert _new_article(nl_category, external_id="demo-only-in-one-language").pk


def test_internal_article_is_refused_to_anonymous_visitors(client, article):
    page = article("demo-internal-fraud-check")
    response = client.get(page.url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert page.title not in response.content.decode()


def test_internal_article_is_refused_to_a_logged_in_customer(client, customer, article):
    client.force_login(customer)
    page = article("demo-internal-fraud-check")
    response = client.get(page.url)
    assert response.status_code in (302, 403)
    assert page.title not in response.content.decode()


def test_internal_article_is_shown_to_operators(operator, article):
    page = article("demo-internal-fraud-check")
    response = operator.get(page.url)
    assert response.status_code == 200
    assert page.title in response.content.decode()


def test_public_article_page_shows_steps_but_never_the_operators_script(client, article):
    page = next(
        a
        for a in SolutionArticlePage.objects.live().public().filter(audience="public").specific()
        if a.diagnosis_scripts
    )
    html = client.get(page.url).content.decode()
    assert page.title in html
    assert 'class="step"' in html
    # The diagnosis script is the operator's (issue 18): customers get the guide instead.
    assert 'class="diagnosis"' not in html
    first_question = page.diagnosis_scripts[0].value["questions"][0]["question"]
    assert str(first_question) not in html


def test_switching_audience_to_public_lifts_the_restriction_when_published(category):
    page = publish(_new_article(category, audience="internal"))
    assert PageViewRestriction.objects.filter(page=page).exists()
    page.audience = "public"
    page = publish(page)
    assert not PageViewRestriction.objects.filter(page=page).exists()


def test_draft_change_to_public_keeps_the_live_internal_article_restricted(category):
    page = publish(_new_article(category, audience="internal"))
    page.audience = "public"
    page.save_revision()
    assert PageViewRestriction.objects.filter(page=page).exists()


def test_sitemap_lists_public_articles_but_never_internal_ones(client, article):
    xml = client.get("/sitemap.xml").content.decode()
    assert article("demo-printer-offline").url.split("/")[-2] in xml
    internal = SolutionArticlePage.objects.filter(audience="internal").live()
    assert internal.exists()
    for page in internal:
        assert f"/{page.slug}/" not in xml


@pytest.mark.parametrize("code", ["en", "nl", "fr"])
def test_home_and_category_pages_render_in_each_language(db, client, code):
    response = client.get(f"/{code}/")
    assert response.status_code == 200
    assert f'lang="{code}"' in response.content.decode()
    category = CategoryPage.objects.live().filter(locale__language_code=code).first()
    assert client.get(category.url).status_code == 200
