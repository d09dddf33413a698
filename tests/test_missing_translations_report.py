"""Missing-translations report: articles needed in a language they have no live version in,
from calls and searches made through the real endpoints; publishing the translation takes
the language off; filters, CSV export, bad input and access as for the other reports."""

import re
import uuid
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from wagtail.models import Locale, Page
from wagtail.users.models import UserProfile

from insights.models import SearchEvent
from tests.conftest import publish
from tests.test_reports import click, csv_tables, operator_search, public_search, record

pytestmark = [pytest.mark.model, pytest.mark.django_db]

URL = "/admin/kb-reports/missing-translations/"
TABLE = "Articles needed in a language they are not published in"


def export_rows(client, **params):
    """The exported table as {article title: {heading: cell}}."""
    response = client.get(URL, {**params, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_tables(response.content.decode("utf-8"))[TABLE]
    head = rows[0]
    return {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}


def screen_row(html, title):
    """The HTML of the screen row whose article cell shows `title` ("" when not listed)."""
    for chunk in html.split("<tr data-article=")[1:]:
        if title in chunk.split("</td>")[0]:
            return chunk.split("</tr>")[0]
    return ""


def solved_call(operator, query, page, locale):
    search = operator_search(operator, query, locale=locale)
    record(operator, "solved", search, page, locale=locale)


@pytest.fixture
def warranty(article):
    page = article("demo-screen-warranty")  # English only in the demo
    assert {p.locale.language_code for p in page.get_translations(inclusive=True)} == {"en"}
    return page


def test_a_dutch_call_solved_with_an_english_only_article_lists_it_as_missing_in_dutch(
    manager, operator, warranty
):
    solved_call(
        operator, "scherm van mijn laptop is gebarsten, valt dat onder garantie", warranty, "nl"
    )

    rows = export_rows(manager)
    row = rows["Broken laptop screen: warranty and repair [en]"]
    assert row["Published in"] == "en"
    assert row["Needed in, not published"] == "nl"
    assert (row["NL: calls solved"], row["NL: need"], row["Need"]) == ("1", "1", "1")
    assert row["FR: calls solved"] == ""  # nobody needed it in French
    assert "gebarsten" in row["NL: example queries"]

    html = manager.get(URL).content.decode()
    shown = screen_row(html, "Broken laptop screen")
    assert 'data-missing-language="nl"' in shown and 'data-missing-language="fr"' not in shown
    assert "calls solved: 1" in shown and "gebarsten" in shown


def test_publishing_the_dutch_version_takes_dutch_off_the_article(
    manager, operator, users, warranty
):
    solved_call(
        operator, "scherm van mijn laptop is gebarsten, valt dat onder garantie", warranty, "nl"
    )
    solved_call(operator, "écran fissuré, c'est couvert par la garantie ?", warranty, "fr")
    title = "Broken laptop screen: warranty and repair [en]"
    assert export_rows(manager)[title]["Needed in, not published"] == "nl, fr"
    translate = screen_row(manager.get(URL).content.decode(), "Broken laptop screen")
    assert f'href="/admin/articles/{warranty.pk}/translate/?locale=nl"' in translate
    assert f'href="/admin/articles/{warranty.pk}/translate/?locale=fr"' in translate

    # Wagtail's Translate makes an unpublished copy: still missing, now "edit the draft".
    dutch = warranty.copy_for_translation(Locale.objects.get(language_code="nl"))
    row = export_rows(manager)[title]
    assert row["Needed in, not published"] == "nl, fr" and row["Published in"] == "en"
    shown = screen_row(manager.get(URL).content.decode(), "Broken laptop screen")
    assert f'href="/admin/pages/{dutch.pk}/edit/"' in shown

    dutch.title = "Gebarsten laptopscherm: garantie en herstelling"
    dutch.save()
    publish(dutch, users["manager"])
    row = export_rows(manager)[f"{title} · Gebarsten laptopscherm: garantie en herstelling [nl]"]
    assert row["Published in"] == "en, nl"
    assert row["Needed in, not published"] == "fr"
    assert (row["NL: calls solved"], row["FR: calls solved"], row["Need"]) == ("", "1", "1")
    shown = screen_row(manager.get(URL).content.decode(), "Broken laptop screen")
    assert 'data-missing-language="nl"' not in shown and 'data-missing-language="fr"' in shown


def test_an_article_in_all_three_languages_never_appears(manager, operator, article):
    printer = article("demo-printer-offline")
    solved_call(operator, "printer staat offline", printer, "nl")
    solved_call(operator, "imprimante hors ligne", printer, "fr")
    assert export_rows(manager) == {}
    html = manager.get(URL).content.decode()
    assert "Office printer shows as offline" not in html
    assert "no article was needed in a language it is not published in" in html


def test_a_french_customer_opening_an_english_only_article_counts_as_an_open(
    manager, client, article
):
    guest_wifi = article("demo-guest-wifi")
    search = public_search(client, "le wifi des visiteurs, c'est quoi le mot de passe", "fr")
    ids = [r["id"] for r in search["results"]]
    assert guest_wifi.pk in ids, "the demo search should list the English article"
    click(client, search, ids.index(guest_wifi.pk) + 1)

    row = export_rows(manager)["Wi-Fi access for visitors [en]"]
    assert (row["FR: calls solved"], row["FR: opens"], row["FR: need"]) == ("0", "1", "1")
    # The language filter keeps the French requests and the French columns only.
    assert export_rows(manager, locale="nl") == {}
    assert "NL: opens" not in export_rows(manager, locale="fr")["Wi-Fi access for visitors [en]"]


def test_a_dutch_question_on_the_english_page_is_dutch_demand(manager, client, article):
    """The customer reads the English site but asks in Dutch: the request counts as Dutch
    demand (the language the question is written in), not English."""
    guest_wifi = article("demo-guest-wifi")  # English only in the demo
    page = client.get("/en/search/", {"q": "hoe krijgt een bezoeker toegang tot de wifi"})
    assert page.status_code == 200
    event = SearchEvent.objects.latest("pk")
    assert (event.locale, event.question_language) == ("en", "nl")
    assert event.result_page_ids[0] == guest_wifi.pk and not event.no_good_match
    click(client, {"search_id": event.pk, "results": [{"id": guest_wifi.pk}]})

    row = export_rows(manager)["Wi-Fi access for visitors [en]"]
    assert row["Needed in, not published"] == "nl"
    assert (row["NL: opens"], row["NL: first result"], row["NL: need"]) == ("1", "1", "1")
    assert "bezoeker" in row["NL: example queries"]
    # The language filter keeps the Dutch requests: the English page it was asked on does
    # not make it English demand.
    assert export_rows(manager, locale="nl")["Wi-Fi access for visitors [en]"]["NL: need"] == "1"
    assert export_rows(manager, locale="en") == {}


def test_a_search_logged_before_its_question_language_was_stored_counts_in_its_locale(
    manager, client, article
):
    guest_wifi = article("demo-guest-wifi")
    search = public_search(client, "le wifi des visiteurs, c'est quoi le mot de passe", "fr")
    SearchEvent.objects.filter(pk=search["search_id"]).update(question_language="")
    assert search["results"][0]["id"] == guest_wifi.pk
    row = export_rows(manager)["Wi-Fi access for visitors [en]"]
    assert (row["FR: first result"], row["FR: need"]) == ("1", "1")
    assert export_rows(manager, locale="fr")["Wi-Fi access for visitors [en]"]["FR: need"] == "1"


def test_a_call_counts_in_the_language_of_its_question(manager, operator, warranty):
    # The console still says English; the operator types the Dutch customer's question.
    solved_call(
        operator, "scherm van mijn laptop is gebarsten, valt dat onder garantie", warranty, "en"
    )
    row = export_rows(manager)["Broken laptop screen: warranty and repair [en]"]
    assert (row["NL: calls solved"], row["NL: need"], row["Need"]) == ("1", "1", "1")
    assert export_rows(manager, locale="en") == {}


def test_rows_are_sorted_by_need_and_the_export_has_them(manager, operator, article, warranty):
    docking = article("demo-docking-station")
    for query in ("dockingstation geeft geen beeld", "dock geeft geen beeld meer"):
        solved_call(operator, query, docking, "nl")
    solved_call(operator, "le dock marche plus, pas d'ecran ni de clavier", docking, "fr")
    solved_call(operator, "scherm van mijn laptop is gebarsten", warranty, "nl")
    rows = export_rows(manager)
    assert list(rows) == [
        "Docking station: no screen, keyboard or network [en]",
        "Broken laptop screen: warranty and repair [en]",
    ]
    assert [rows[t]["Need"] for t in rows] == ["3", "1"]
    html = manager.get(URL).content.decode()
    assert html.index("Docking station") < html.index("Broken laptop screen")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"period": "custom", "date_from": "2026-03-10", "date_to": "2026-03-01"}, "is after"),
        ({"period": "custom", "date_from": "10/03/2026", "date_to": "x"}, "is not a date"),
        ({"locale": "de"}, "Language"),
        ({"service": "not-a-service"}, "Service"),
    ],
)
def test_bad_filter_input_shows_a_clear_message_not_a_500(manager, params, message):
    response = manager.get(URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters cannot be used" in html and message in html
    export = manager.get(URL, {**params, "export": "csv"})
    assert export.status_code == 400 and "text/html" in export["Content-Type"]


def test_only_report_readers_see_it_and_only_translators_get_the_translate_button(
    users, operator, warranty
):
    solved_call(operator, "scherm van mijn laptop is gebarsten", warranty, "nl")
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    editor = get_user_model().objects.create_user("editor", password="editor-pass-123")
    editor.groups.add(Group.objects.get(name="Editors"))  # admin access, no view_reports
    for user in (users["operator"], editor):
        client = Client()
        client.force_login(user)
        for url in (URL, URL + "?export=csv"):
            response = client.get(url)
            assert response.status_code in (302, 403)
            assert b"Broken laptop screen" not in response.content

    second_line = Client()
    second_line.force_login(users["secondline"])
    shown = screen_row(second_line.get(URL).content.decode(), "Broken laptop screen")
    assert shown and 'data-action="translate"' not in shown
    assert "needs the “Can submit translations” permission" in shown

    manager = Client()
    manager.force_login(users["manager"])
    shown = screen_row(manager.get(URL).content.decode(), "Broken laptop screen")
    href = re.search(r'href="([^"]+)" data-action="translate"', shown).group(1)
    form = manager.get(href)  # Wagtail's own translation form, offering Dutch
    assert form.status_code == 200 and "Nederlands" in form.content.decode()
    assert ticked(form.content.decode()) == {"nl"}


def test_the_reports_menu_lists_it_in_dutch_for_report_readers(users):
    client = Client()
    client.force_login(users["manager"])
    assert URL in client.get("/admin/").content.decode()
    profile = UserProfile.get_for_user(users["manager"])
    profile.preferred_language = "nl"
    profile.save()
    html = client.get("/admin/").content.decode()
    assert "Ontbrekende vertalingen" in html
    operator = Client()
    operator.force_login(users["operator"])
    assert URL not in operator.get("/admin/", follow=True).content.decode()


def test_the_page_says_pruned_days_count_nothing(manager, operator, warranty):
    from django.utils import timezone

    from insights.models import DailySearchStats

    solved_call(operator, "scherm van mijn laptop is gebarsten", warranty, "nl")
    note = "only the events still stored are counted"
    assert "daily counts kept after pruning name no article" in manager.get(URL).content.decode()
    assert note not in manager.get(URL).content.decode()
    DailySearchStats.objects.create(
        day=timezone.localdate(), channel="operator", locale="nl", searches=40, outcomes_solved=30
    )
    html = manager.get(URL).content.decode()
    assert note in html
    # The pruned day's 30 solved calls name no article: the figures are the stored events'.
    row = export_rows(manager)["Broken laptop screen: warranty and repair [en]"]
    assert row["NL: calls solved"] == "1"


# --- "Translate into …": Wagtail's translation form with that language ticked ---------------

WAGTAIL_FORM = "/admin/translation/submit/page/{pk}/"
TRANSLATE = "/admin/articles/{pk}/translate/"


def locale_boxes(html):
    """{language code: ticked?} of the translation form's language checkboxes."""
    codes = {str(pk): code for pk, code in Locale.objects.values_list("pk", "language_code")}
    boxes = re.findall(r'<input type="checkbox" name="locales" value="(\d+)"([^>]*)>', html)
    return {codes[pk]: " checked" in attrs for pk, attrs in boxes}


def ticked(html):
    return {code for code, checked in locale_boxes(html).items() if checked}


def test_translate_into_opens_wagtails_form_with_only_that_language_ticked(manager, warranty):
    plain = manager.get(WAGTAIL_FORM.format(pk=warranty.pk)).content.decode()
    assert locale_boxes(plain) == {"nl": False, "fr": False}  # Wagtail ticks nothing
    for code in ("nl", "fr"):
        response = manager.get(TRANSLATE.format(pk=warranty.pk), {"locale": code})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Translate page" in html and "Broken laptop screen" in html
        assert locale_boxes(html) == {"nl": code == "nl", "fr": code == "fr"}


@pytest.mark.parametrize("code", ["", "xx", "de", "en", "NL", "nl-be", "2", "nl'><script>"])
def test_a_language_the_form_does_not_offer_is_ignored_not_an_error(manager, warranty, code):
    """Unknown, not a site language, the article's own language (already translated), a
    locale id instead of a code: the form opens as Wagtail shows it, nothing ticked."""
    response = manager.get(TRANSLATE.format(pk=warranty.pk), {"locale": code})
    assert response.status_code == 200
    html = response.content.decode()
    assert locale_boxes(html) == {"nl": False, "fr": False}


def test_a_language_wagtail_disables_is_not_ticked(manager, warranty):
    """Wagtail disables a language the parent page has no version in: not ticked either."""
    french_category = warranty.get_parent().get_translation(Locale.objects.get(language_code="fr"))
    Page.objects.filter(pk=french_category.pk).update(translation_key=uuid.uuid4())
    html = manager.get(TRANSLATE.format(pk=warranty.pk), {"locale": "fr"}).content.decode()
    french = Locale.objects.get(language_code="fr").pk
    assert re.search(rf'value="{french}"[^>]*disabled', html)
    assert ticked(html) == set()
    assert ticked(
        manager.get(TRANSLATE.format(pk=warranty.pk), {"locale": "nl"}).content.decode()
    ) == {"nl"}


def test_submitting_creates_only_the_ticked_language_as_wagtail_does(manager, warranty):
    dutch = Locale.objects.get(language_code="nl")
    response = manager.post(
        TRANSLATE.format(pk=warranty.pk) + "?locale=nl", {"locales": [dutch.pk]}
    )
    copy = warranty.get_translation(dutch)
    assert response.status_code == 302 and response["Location"] == f"/admin/pages/{copy.pk}/edit/"
    assert not copy.live
    assert {p.locale.language_code for p in warranty.get_translations(inclusive=True)} == {
        "en",
        "nl",
    }


def test_users_wagtail_refuses_are_refused_the_same_way(users, warranty):
    """No "Can submit translations" (second line), or the permission without edit rights on
    the page: the same answer as Wagtail's own form, and no copy made."""
    no_edit = get_user_model().objects.create_user("translator", password="translator-pass-1")
    no_edit.user_permissions.add(
        Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin"),
        Permission.objects.get(
            codename="submit_translation", content_type__app_label="simple_translation"
        ),
    )
    dutch = Locale.objects.get(language_code="nl")
    ours_url = TRANSLATE.format(pk=warranty.pk) + "?locale=nl"
    wagtails_url = WAGTAIL_FORM.format(pk=warranty.pk)

    def refusal(response, url):
        """Status, where it sends the user (the form's own address taken out: the login
        page's ?next= names it) and the message it shows there."""
        location = response.get("Location", "")
        said = [str(m) for m in get_messages(response.wsgi_request)]
        return response.status_code, location.replace(quote(url, safe="/"), "<form>"), said

    def client_of(user):  # a fresh session each time: no message left from the last answer
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    for user in (users["secondline"], no_edit, None):
        for method, data in (("get", {}), ("post", {"locales": [dutch.pk]})):
            ours = getattr(client_of(user), method)(ours_url, data)
            wagtails = getattr(client_of(user), method)(wagtails_url, data)
            assert ours.status_code in (302, 403)
            assert refusal(ours, ours_url) == refusal(wagtails, wagtails_url)
    assert not warranty.get_translations().exists()
