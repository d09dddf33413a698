"""Which candidates have a version in the question's language (search/service.py,
own_versions_of): the statement kept per process for operators gives what the ORM query
gives, for every language and set of keys, and follows archiving and unpublishing."""

import uuid

import pytest
from wagtail.models import Locale

from articles.models import SolutionArticlePage
from search import service

pytestmark = pytest.mark.django_db


def orm(articles, keys, locale_id):
    return frozenset(
        articles.filter(translation_key__in=keys, locale_id=locale_id).values_list(
            "translation_key", flat=True
        )
    )


def test_the_kept_statement_gives_the_orms_keys(users):
    staff, _scope, _allowed = service._articles_for(users["operator"], "operator", None)
    public, _scope, _allowed = service._articles_for(None, "public", None)
    assert service._own_versions_statement(staff, 3) is not None  # the kept path is tested
    keys = list(SolutionArticlePage.objects.values_list("translation_key", flat=True).distinct())
    locales = list(Locale.objects.values_list("pk", flat=True))
    assert len(keys) > 10 and len(locales) >= 3
    found = 0
    for _round in range(2):  # the second round runs the kept statements
        for pool in (keys, keys[:5], [keys[2], uuid.uuid4()], keys[7:8]):
            for locale_id in [*locales, 10**9]:
                for articles in (staff, public):
                    got = service.own_versions_of(articles, set(pool), locale_id)
                    assert got == orm(articles, pool, locale_id), (pool, locale_id)
                    found += len(got)
    assert found > 20
    # Archived or unpublished after the statement was kept: no longer counted.
    page = SolutionArticlePage.objects.filter(translation_key__in=keys[:5]).first()
    SolutionArticlePage.objects.filter(pk=page.pk).update(kcs_state="archived")
    assert (
        page.translation_key not in service.own_versions_of(staff, set(keys[:5]), page.locale_id)
        or SolutionArticlePage.objects.filter(
            translation_key=page.translation_key, locale_id=page.locale_id
        )
        .exclude(pk=page.pk)
        .exists()
    )
    assert service.own_versions_of(staff, set(keys[:5]), page.locale_id) == orm(
        staff, keys[:5], page.locale_id
    )
    assert service.own_versions_of(staff, set(), locales[0]) == frozenset()
