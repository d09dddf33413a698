"""Recurring-problem and KCS health reports: figures from events made through the real
endpoints, filters, CSV/XLSX export equal to the screen, bad filter input, access control."""

import csv
import datetime
import io
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from articles.models import EscalationTeam, SolutionArticlePage
from insights.models import CallOutcome, SearchEvent
from insights.reports.export import format_cell
from tests.conftest import logged_in, screenshot

pytestmark = [pytest.mark.model, pytest.mark.django_db]

RECURRING = "/admin/kb-reports/recurring-problems/"
HEALTH = "/admin/kb-reports/kcs-health/"


# -- reading what the screen and the exports show ---------------------------------------


class _Tables(HTMLParser):
    """Every report table on a page: {title: [header row, data rows...]}."""

    def __init__(self):
        super().__init__()
        self.tables, self._title, self._row, self._cell, self._skip = {}, None, None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-report-table" in attrs:
            self._title = attrs["data-report-table"]
            self.tables[self._title] = []
        elif self._title and tag == "tr":
            self._row, self._skip = [], "kb-empty" in (attrs.get("class") or "")
        elif self._title and tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if not self._skip:
                self.tables[self._title].append(self._row)
            self._row = None
        elif tag == "table":
            self._title = None


def screen_tables(html):
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def csv_tables(text):
    rows = list(csv.reader(io.StringIO(text)))
    tables, current = {}, None
    for row in rows[2:]:
        if not row:
            current = None
        elif current is None:
            current = row[0]
            tables[current] = []
        else:
            tables[current].append([" ".join(c.split()) for c in row])
    return tables


def table_dict(rows):
    """Data rows keyed by their first cell, as {first: {heading: cell}}."""
    head = rows[0]
    return {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}


def pct(part, whole):
    return format_cell("pct", part / whole if whole else None)


# -- making events through the real endpoints -------------------------------------------


def operator_search(client, q, locale="en"):
    return client.get("/api/v1/search/", {"q": q, "locale": locale, "source": "console"}).json()


def record(client, outcome, search, article=None, team=None, locale="en"):
    body = {"outcome": outcome, "search_id": search["search_id"], "locale": locale}
    if article is not None:
        body["article_id"] = article.pk
    if team is not None:
        body["team_id"] = team.pk
    response = client.post("/api/v1/outcomes/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def public_search(client, q, locale="en"):
    return client.get("/api/v1/public/search/", {"q": q, "locale": locale}).json()


def click(client, search, position=1):
    response = client.post(
        "/api/v1/clicks/",
        {
            "search_id": search["search_id"],
            "article_id": search["results"][position - 1]["id"],
            "position": position,
        },
        content_type="application/json",
    )
    assert response.status_code == 201


def feedback(client, page, helpful, reason="did_not_work"):
    response = client.post(
        f"/{page.locale.language_code}/feedback/",
        {"article": page.pk, "helpful": "yes" if helpful else "no"},
    )
    if not helpful:
        client.post(response["Location"], {"reason": reason, "comment": ""})


def contact(client, locale="en"):
    response = client.post(
        f"/{locale}/contact/",
        {"name": "A customer", "email": "customer@example.be", "message": "Still broken"},
    )
    assert response.status_code == 200


def backdate(model, pk, days):
    model.objects.filter(pk=pk).update(created_at=timezone.now() - datetime.timedelta(days=days))


# -- the KCS and self-service health figures ---------------------------------------------


@pytest.fixture
def calls(operator, article):
    """Seven recorded calls: 3 solved (2 articles), 2 escalated (1 with its article), 2 without."""
    printer, vpn = article("demo-printer-offline"), article("demo-vpn-cannot-connect")
    network = EscalationTeam.objects.get(slug="network-operations")
    made = []
    for q, outcome, page, team in [
        ("printer offline", "solved", printer, None),
        ("printer says offline", "solved", printer, None),
        ("vpn will not connect", "solved", vpn, None),
        ("vpn error 809", "escalated", vpn, network),
        ("vpn keeps failing", "escalated", None, network),
        ("holographic keyboard", "no_article", None, None),
        ("time machine repair", "no_article", None, None),
    ]:
        search = operator_search(operator, q)
        made.append((outcome, page, team, record(operator, outcome, search, page, team)))
    return made


def test_link_rate_and_volumes_are_what_the_recorded_calls_imply(manager, calls):
    tables = screen_tables(manager.get(HEALTH).content.decode())
    rates = table_dict(tables["KCS and self-service rates"])
    linked = sum(1 for _, page, _, _ in calls if page is not None)
    assert rates["Link rate"]["Rate"] == pct(linked, len(calls))
    assert (rates["Link rate"]["Count"], rates["Link rate"]["Out of"]) == (
        str(linked),
        str(len(calls)),
    )
    volumes = table_dict(tables["Volumes"])
    for label, outcome in [
        ("Solved with an article (reuse)", "solved"),
        ("Escalated", "escalated"),
        ("No article found", "no_article"),
    ]:
        assert volumes[label]["Count"] == str(sum(1 for o, *_ in calls if o == outcome))


def test_self_service_click_and_result_rates_follow_the_public_searches(manager, client):
    queries = ["printer offline", "reset my password", "vpn cannot connect", "wifi not working"]
    searches = [public_search(client, q) for q in queries]
    click(client, searches[0], 1)
    click(client, searches[0], 2)  # two clicks on one search: still one search with a click
    click(client, searches[2], 1)
    contact(client)  # follows every search of this visitor in the last two hours
    stranger = Client()
    later = [public_search(stranger, q) for q in ["paper jam", "zzqx qqzz vvkk"]]
    everything = searches + later
    with_results = [s for s in everything if s["results"]]
    clicked = 2

    rates = table_dict(
        screen_tables(manager.get(HEALTH).content.decode())["KCS and self-service rates"]
    )
    assert rates["Click-through rate"]["Rate"] == pct(clicked, len(everything))
    assert rates["No-click rate"]["Rate"] == pct(len(with_results) - clicked, len(with_results))
    flagged = [s for s in everything if s["no_good_match"]]
    assert flagged and len(flagged) < len(everything)  # the nonsense query, not the real ones
    assert rates["No-good-match rate"]["Rate"] == pct(len(flagged), len(everything))
    assert rates["No-good-match rate"]["Count"] == str(len(flagged))
    assert rates["Self-service success"]["Rate"] == pct(len(later), len(everything))


def test_no_result_rate_is_not_shown_because_search_always_answers(manager, client):
    """Semantic search returns results for nonsense too: a no-result rate of 0.0 % would
    hide the searches nobody could answer; the report shows the no-good-match rate."""
    nonsense = public_search(client, "zzqx qqzz vvkk")
    assert nonsense["results"] and nonsense["no_good_match"]
    html = manager.get(HEALTH).content.decode()
    rates = table_dict(screen_tables(html)["KCS and self-service rates"])
    assert "No-result rate" not in rates
    assert rates["No-good-match rate"]["Count"] == "1"
    chart = screen_tables(html)["Searches and calls over time"]
    assert "Searches without a good match" in chart[0]
    assert sum(int(row[chart[0].index("Searches without a good match")]) for row in chart[1:]) == 1


def test_helpful_rate_per_article_counts_yes_and_no(manager, article):
    printer, wifi = article("demo-printer-offline"), article("demo-wifi-cannot-connect", "nl")
    answers = {printer: [True, True, False], wifi: [False, False]}
    for page, values in answers.items():
        for helpful in values:
            feedback(Client(), page, helpful, reason="outdated")
    table = screen_tables(manager.get(HEALTH).content.decode())["Helpful rate per article"]
    rows = {(r[0], r[1]): dict(zip(table[0], r, strict=True)) for r in table[1:]}
    for page, values in answers.items():
        row = rows[(page.title, page.locale.language_code)]
        assert row["Helpful"] == str(sum(values))
        assert row["Not helpful"] == str(len(values) - sum(values))
        assert row["Helpful rate"] == pct(sum(values), len(values))
        assert row["Most given reason"] == "It is outdated"


def test_articles_past_their_review_date_are_listed(manager, article):
    page = article("demo-paper-jam")
    SolutionArticlePage.objects.filter(pk=page.pk).update(
        next_review_date=timezone.localdate() - datetime.timedelta(days=12)
    )
    rows = table_dict(
        screen_tables(manager.get(HEALTH).content.decode())["Articles past their review date"]
    )
    assert rows[page.title]["Days overdue"] == "12"
    SolutionArticlePage.objects.filter(pk=page.pk).update(next_review_date=None)
    rows = table_dict(
        screen_tables(manager.get(HEALTH).content.decode())["Articles past their review date"]
    )
    assert page.title not in rows


def test_a_new_wip_article_counts_as_creation(manager, users):
    from articles.authoring import create_wip_article

    def created():
        volumes = table_dict(screen_tables(manager.get(HEALTH).content.decode())["Volumes"])
        return int(volumes["Articles created (first saved in the period)"]["Count"])

    before = created()
    create_wip_article(
        phrasings=["the coffee machine shows error 42"], locale="en", user=users["manager"]
    )
    assert created() == before + 1


def test_figures_survive_pruning_of_the_raw_events(manager, client, settings):
    from insights.retention import prune

    searches = [public_search(client, q) for q in ["printer offline", "zzqx qqzz vvkk", "vpn"]]
    click(client, searches[0])
    SearchEvent.objects.update(created_at=timezone.now() - datetime.timedelta(days=40))
    url = f"{HEALTH}?period=90"
    before = table_dict(
        screen_tables(manager.get(url).content.decode())["KCS and self-service rates"]
    )
    prune(days=30)
    assert not SearchEvent.objects.exists()
    page = manager.get(url).content.decode()
    after = table_dict(screen_tables(page)["KCS and self-service rates"])
    for metric in (
        "No-good-match rate",
        "Click-through rate",
        "No-click rate",
        "Self-service success",
    ):
        assert after[metric] == before[metric]
    assert after["Click-through rate"]["Out of"] == str(len(searches))
    assert "has been pruned" in page


# -- recurring problems ------------------------------------------------------------------


def test_articles_most_used_and_escalations_per_team_follow_the_calls(manager, calls):
    tables = screen_tables(manager.get(RECURRING).content.decode())
    solved = [page for outcome, page, _, _ in calls if outcome == "solved"]
    top = table_dict(tables["Articles most used to solve calls"])
    for page in set(solved):
        assert top[page.title]["Solved calls"] == str(solved.count(page))
        assert top[page.title]["Share of solved calls"] == pct(solved.count(page), len(solved))
    assert list(top) == sorted(top, key=lambda t: -int(top[t]["Solved calls"]))
    teams = table_dict(tables["Escalations per team and period"])
    escalated = [team for outcome, _, team, _ in calls if outcome == "escalated"]
    assert {t: row["Escalations"] for t, row in teams.items()} == {
        team.name: str(escalated.count(team)) for team in set(escalated)
    }
    chart = table_dict(tables["Escalations per team"])  # the bar chart's data table
    assert {t: row["Escalations"] for t, row in chart.items()} == {
        t: row["Escalations"] for t, row in teams.items()
    }


def test_a_problem_whose_calls_grow_in_the_recent_half_is_rising(manager, operator, article):
    growing, steady = article("demo-sim-puk-blocked"), article("demo-mailbox-full")
    events = [(20, growing)] + [(2, growing)] * 6  # 1 call, then 6 in the recent half
    events += [(40, steady)] * 6 + [(20, steady)] * 3 + [(3, steady)] * 3  # as before
    for days_ago, page in events:
        search = operator_search(operator, page.title)
        outcome_id = record(operator, "solved", search, page)
        backdate(CallOutcome, outcome_id, days_ago)
        backdate(SearchEvent, search["search_id"], days_ago)
    table = screen_tables(manager.get(RECURRING).content.decode())["Rising problems"]
    rising = {row[1]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert rising[f"{growing.title} [en]"]["Recent half"] == "6"
    assert rising[f"{growing.title} [en]"]["Earlier half"] == "1"
    assert f"{steady.title} [en]" not in rising
    mobile = next(name for name in rising if name.startswith("Mobile"))
    assert rising[mobile]["Kind"] == "Service"


def test_days_before_the_log_began_do_not_make_a_problem_look_rising(manager, operator, article):
    page = article("demo-esim-activation")
    for days_ago in [5, 5, 3, 3, 1, 1]:  # the log starts 5 days ago: a steady problem
        search = operator_search(operator, page.title)
        backdate(CallOutcome, record(operator, "solved", search, page), days_ago)
        backdate(SearchEvent, search["search_id"], days_ago)
    html = manager.get(RECURRING, {"period": "30"}).content.decode()
    rising = {r[1] for r in screen_tables(html)["Rising problems"][1:]}
    assert f"{page.title} [en]" not in rising
    assert "The log starts on" in html


def test_a_problem_busier_than_the_previous_period_is_rising(manager, operator, article):
    page = article("demo-roaming-abroad")
    # 2 calls in the previous 7 days, 6 spread evenly over this week
    for days_ago in [9, 11] + [0, 1, 2, 4, 5, 6]:
        search = operator_search(operator, page.title)
        backdate(CallOutcome, record(operator, "solved", search, page), days_ago)
        backdate(SearchEvent, search["search_id"], days_ago)
    table = screen_tables(manager.get(RECURRING, {"period": "7"}).content.decode())
    assert f"{page.title} [en]" not in {r[1] for r in table["Rising problems"][1:]}, (
        "without a log covering the previous period, only the halves are compared"
    )
    old = operator_search(operator, "printer offline")
    backdate(SearchEvent, old["search_id"], 30)  # the log now reaches back before it
    table = screen_tables(manager.get(RECURRING, {"period": "7"}).content.decode())
    rising = {
        r[1]: dict(zip(table["Rising problems"][0], r, strict=True))
        for r in table["Rising problems"][1:]
    }
    row = rising[f"{page.title} [en]"]
    assert row["Previous period"] == "2"
    assert row["Why rising"] == "6 vs 2 in the previous period"


def test_volume_per_service_groups_calls_by_service_in_every_language(manager, operator, article):
    vpn_en, vpn_nl = article("demo-vpn-cannot-connect"), article("demo-vpn-cannot-connect", "nl")
    for page in (vpn_en, vpn_nl, vpn_nl):
        search = operator_search(operator, page.title, page.locale.language_code)
        record(operator, "solved", search, page, locale=page.locale.language_code)
    services = table_dict(
        screen_tables(manager.get(RECURRING).content.decode())["Volume per service"]
    )
    vpn = next(row for name, row in services.items() if name.startswith("VPN and remote access"))
    assert vpn["Calls"] == "3"
    only_nl = table_dict(
        screen_tables(manager.get(RECURRING, {"locale": "nl"}).content.decode())[
            "Volume per service"
        ]
    )
    vpn = next(row for name, row in only_nl.items() if name.startswith("VPN and remote access"))
    assert vpn["Calls"] == "2"


# -- filters ------------------------------------------------------------------------------


def _service_key(label_start):
    from insights.reports.filters import service_choices

    return next(key for key, label in service_choices() if label.startswith(label_start))


def test_filters_change_the_figures(manager, calls):
    def link(params):
        page = manager.get(HEALTH, params).content.decode()
        return table_dict(screen_tables(page)["KCS and self-service rates"])["Link rate"]

    everything = link({})
    assert everything["Out of"] == str(len(calls))
    assert link({"channel": "public"})["Rate"] == "–"  # calls are the operator channel
    assert link({"locale": "nl"})["Out of"] == "0"
    printing = link({"service": _service_key("Printing")})
    printer_calls = [c for c in calls if c[1] is not None and "printer" in c[1].external_id]
    assert printing["Out of"] == str(len(printer_calls))
    # a custom range before the calls were made holds none of them
    old = link({"period": "custom", "date_from": "2024-01-01", "date_to": "2024-01-31"})
    assert old["Out of"] == "0"
    CallOutcome.objects.update(created_at=timezone.now() - datetime.timedelta(days=20))
    assert link({"period": "7"})["Out of"] == "0"
    assert link({"period": "30"})["Out of"] == str(len(calls))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"period": "custom", "date_from": "2026-03-10", "date_to": "2026-03-01"}, "is after"),
        ({"period": "custom", "date_from": "10/03/2026", "date_to": "x"}, "is not a date"),
        ({"period": "custom", "date_from": "2026-03-01"}, "needs both"),
        ({"period": "custom", "date_from": "1900-01-01", "date_to": "1900-02-01"}, "between"),
        ({"period": "custom", "date_from": "2019-01-01", "date_to": "2026-01-01"}, "at most"),
        ({"period": "12"}, "Period"),
        ({"channel": "fax"}, "Channel"),
        ({"service": "not-a-service"}, "Service"),
    ],
)
@pytest.mark.parametrize("url", [RECURRING, HEALTH])
def test_bad_filter_input_shows_a_clear_message_not_a_500(manager, url, params, message):
    response = manager.get(url, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters cannot be used" in html and message in html
    export = manager.get(url, {**params, "export": "csv"})
    assert export.status_code == 400 and "text/html" in export["Content-Type"]


# -- export -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [RECURRING, HEALTH])
def test_csv_and_xlsx_exports_hold_exactly_the_tables_on_screen(manager, calls, client, url):
    from openpyxl import load_workbook

    public_search(client, "printer offline")
    params = {"period": "30", "locale": "en"}
    screen = screen_tables(manager.get(url, params).content.decode())
    assert len(screen) >= 4
    response = manager.get(url, {**params, "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert csv_tables(response.content.decode("utf-8")) == screen

    response = manager.get(url, {**params, "export": "xlsx"})
    workbook = load_workbook(io.BytesIO(response.content))
    index = workbook["Report"]
    sheets = {
        row[1]: workbook[row[0]] for row in index.iter_rows(min_row=5, values_only=True) if row[0]
    }
    assert set(sheets) == set(screen)
    for title, rows in screen.items():
        sheet = list(sheets[title].iter_rows(values_only=True))
        assert [str(h) for h in sheet[0]] == rows[0]
        assert len(sheet) == len(rows)
        for xrow, srow in zip(sheet[1:], rows[1:], strict=True):
            for value, shown in zip(xrow, srow, strict=True):
                kind = (
                    "pct"
                    if shown.endswith("%")
                    else "int"
                    if isinstance(value, int)
                    else "date"
                    if isinstance(value, datetime.datetime)
                    else "text"
                )
                if kind == "date":
                    value = value.date()
                if value is None:
                    assert shown in ("", "–")
                else:
                    assert format_cell(kind, value) == shown


def test_export_cells_cannot_become_spreadsheet_formulas(manager, calls):
    from openpyxl import load_workbook

    from insights.reports.export import Report, Table, to_csv, to_xlsx
    from insights.reports.filters import default_filters

    report = Report(
        "t", "t", default_filters(), [Table("Articles", ["Title"], [["=HYPERLINK(1)"]])]
    )
    assert "'=HYPERLINK(1)" in to_csv(report)
    cell = load_workbook(io.BytesIO(to_xlsx(report)))["Articles"]["A2"]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(1)", "s")


def test_charts_are_accessible_images_with_their_numbers_in_a_table(manager, calls):
    html = manager.get(RECURRING).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="kb-chart__svg" role="img"' in html
    assert "<title id=" in html and "<desc id=" in html
    tables = screen_tables(html)
    assert "Problem volume per service over time" in tables  # the chart's data table
    assert "<script" not in html.split('class="kb-chart"')[1].split("</figure>")[0]


# -- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [RECURRING, HEALTH, RECURRING + "?export=csv"])
def test_only_users_with_the_reports_permission_get_the_reports(users, url):
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    for name in ("operator",):
        client = logged_in(users[name])
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert b"Recurring problems" not in response.content
        if response.status_code == 302:
            assert "login" in response["Location"] or response["Location"].startswith("/admin")
    for name in ("secondline", "manager", "admin"):
        client = logged_in(users[name])
        assert client.get(url).status_code == 200


def test_reports_menu_lists_the_reports_for_second_line_and_managers_only(users):
    for name in ("secondline", "manager"):
        client = logged_in(users[name])
        html = client.get("/admin/").content.decode()
        assert RECURRING in html and HEALTH in html
    # Operators work in the console; they have no admin access and see no reports.
    operator = logged_in(users["operator"])
    assert RECURRING not in operator.get("/admin/", follow=True).content.decode()


# -- what a knowledge manager sees (browser) ------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_reports_with_demo_events_in_a_browser(login_browser, users):
    from search.demo.events import load_demo_events

    load_demo_events(days=21, seed=3, calls_per_day=10, visits_per_day=8)
    page = login_browser(users["manager"])
    page.set_viewport_size({"width": 1280, "height": 2400})  # the admin scrolls inside its panel
    for url, name, heading in [
        (RECURRING, "report-recurring-problems", "Problem volume per service over time"),
        (HEALTH, "report-kcs-health", "Searches and calls over time"),
    ]:
        page.goto(url)
        page.get_by_role("heading", name=heading).wait_for()
        chart = page.locator("svg[role=img]").first
        assert chart.is_visible()
        assert page.locator("svg[role=img] polyline").count() >= 1
        screenshot(page, name)
    page.goto(f"{HEALTH}?period=custom&date_from=2026-05-10&date_to=2026-05-01")
    assert page.get_by_role("alert").is_visible()
    screenshot(page, "report-bad-filter")
