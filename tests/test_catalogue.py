from articles.models import Service, ServiceLevel
from articles.selectors import coverage_for


def test_contract_levels_cover_different_services_with_their_targets(article):
    vpn = article("demo-vpn-cannot-connect")
    basic, premium = (
        ServiceLevel.objects.get(code="basic"),
        ServiceLevel.objects.get(code="premium"),
    )
    basic_cov = {c.service.slug: c for c in coverage_for(vpn, basic)}
    premium_cov = {c.service.slug: c for c in coverage_for(vpn, premium)}
    assert basic_cov["vpn-remote-access"].covered is False
    assert basic_cov["vpn-remote-access"].targets == []
    assert premium_cov["vpn-remote-access"].covered is True
    p1 = next(t for t in premium_cov["vpn-remote-access"].targets if t.priority == "P1")
    assert (p1.response_minutes, p1.resolution_minutes) == (15, 240)


def test_a_dutch_service_is_covered_through_its_english_translation(article):
    nl_vpn = article("demo-vpn-cannot-connect", "nl")
    service = nl_vpn.services.get()
    assert service.locale.language_code == "nl"
    assert ServiceLevel.objects.get(code="standard").covers(service)


def test_article_escalates_to_its_service_owner_unless_overridden(article):
    page = article("demo-vpn-cannot-connect")
    if page.escalation_team_id is None:
        assert page.get_escalation_team() == page.services.first().owning_team
    team = page.get_escalation_team()
    assert team is not None and team.name


def test_services_exist_in_all_three_languages(db):
    for slug in Service.objects.filter(locale__language_code="en").values_list("slug", flat=True):
        assert Service.objects.filter(slug=slug).count() == 3
