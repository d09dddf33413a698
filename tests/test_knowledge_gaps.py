"""Knowledge gaps: unresolved demand from the real endpoints becomes a topic, a published
article makes it disappear, 'create draft article' makes a redacted WIP draft, the CSV equals
the screen, the command prints the topics, and only knowledge managers see the report."""

import csv
import io
import json
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from articles.models import SolutionArticlePage
from embeddings.calibration import no_good_match_threshold
from embeddings.encoder import comparison_model_id
from insights.gaps import knowledge_gaps
from tests.conftest import logged_in, publish, screenshot

pytestmark = [pytest.mark.model, pytest.mark.django_db]

REPORT = "/admin/kb-reports/knowledge-gaps/"
DRAFT = "/admin/kb-reports/knowledge-gaps/draft/"
# A problem the demo knowledge base has no article for, worded the way callers do.
COFFEE = [
    "the coffee machine on the third floor shows error C12",
    "coffee machine error C12 on floor three",
    "coffee machine third floor says C12 and gives no coffee",
    "coffee machine on floor 3 shows error C12, call me on 0475 12 34 56",
]


def _public_search(client, query, locale="en"):
    response = client.get("/api/v1/public/search/", {"q": query, "locale": locale})
    assert response.status_code == 200
    return response.json()


def _unanswered_coffee_demand(users):
    """Customers search for it, an operator closes two calls with 'no article found'."""
    customer = Client()
    for query in COFFEE:
        assert _public_search(customer, query)["no_good_match"], query
    operator = logged_in(users["operator"])
    # The console searches while the operator types: this prefix is not a request of its own.
    assert operator.get(
        "/api/v1/search/", {"q": "the coffee machine on", "locale": "en", "source": "console"}
    ).json()["no_good_match"]
    for query in COFFEE[:2]:
        data = operator.get(
            "/api/v1/search/", {"q": query, "locale": "en", "source": "console"}
        ).json()
        response = operator.post(
            "/api/v1/outcomes/",
            {
                "outcome": "no_article",
                "query": query,
                "locale": "en",
                "search_id": data["search_id"],
            },
            content_type="application/json",
        )
        assert response.status_code == 201


def _coffee_topic(report):
    return next((t for t in report.topics if "coffee" in t.label.lower()), None)


# -- topics ------------------------------------------------------------------------------------


def test_repeated_unanswered_queries_become_one_topic(users):
    _unanswered_coffee_demand(users)
    topic = _coffee_topic(knowledge_gaps(days=1))
    assert topic is not None
    # 4 public searches + 2 calls: each call counted once (not its search again), and the
    # operator's half-typed search before the first call not at all.
    assert topic.volume == 6
    assert topic.channels == {"public": 4, "operator": 2}
    assert topic.kinds.get("no_article") == 2
    assert set(topic.languages) == {"en"}
    assert all("coffee" in example.lower() for example in topic.examples)
    assert not any("0475" in example for example in topic.examples)  # stored redacted
    # Nothing in the knowledge base comes close (in the model the report compares with).
    assert topic.similarity < no_good_match_threshold("en", comparison_model_id())


def test_topic_disappears_once_an_article_for_it_is_published(users, run_on_commit):
    from articles.authoring import create_wip_article

    _unanswered_coffee_demand(users)
    assert _coffee_topic(knowledge_gaps(days=1)) is not None
    draft = create_wip_article(
        phrasings=COFFEE[:3], locale="en", title="Coffee machine shows error C12"
    )
    draft.audience = SolutionArticlePage.AUDIENCE_PUBLIC
    draft.kcs_state = SolutionArticlePage.KCS_VALIDATED
    run_on_commit(publish, draft, users["manager"])
    report = knowledge_gaps(days=1)
    assert _coffee_topic(report) is None
    assert report.answered_since >= 5


def test_an_unrelated_publication_leaves_the_topic_alone(users, run_on_commit):
    from articles.authoring import create_wip_article

    _unanswered_coffee_demand(users)
    draft = create_wip_article(phrasings=["the parking barrier does not open"], locale="en")
    draft.audience = SolutionArticlePage.AUDIENCE_PUBLIC
    run_on_commit(publish, draft, users["manager"])
    assert _coffee_topic(knowledge_gaps(days=1)).volume == 6


def test_clustering_many_distinct_texts_still_recovers_the_groups():
    """Above DIRECT_LIMIT distinct texts the micro-cluster path is used; it must find the same
    kind of groups (synthetic unit vectors around 60 random centres: no model needed)."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from insights.gaps import DIRECT_LIMIT, cluster_vectors

    rng = np.random.default_rng(0)
    # Groups with cosine ~0.7 inside and ~0.26 between them (a shared component, like the
    # common "my ... does not work" part of helpdesk questions).
    centres = rng.normal(size=(60, 384)) + 0.7 * rng.normal(size=384)
    truth = np.repeat(np.arange(60), 70)
    assert len(truth) > DIRECT_LIMIT
    vectors = centres[truth] + rng.normal(scale=0.12, size=(len(truth), 384)) * np.sqrt(384) / 3
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("float32")
    # The threshold of a model whose same-topic texts sit at cosine ~0.7 (MiniLM's scale).
    labels = cluster_vectors(vectors, distance_threshold=0.45)
    assert adjusted_rand_score(truth, labels) > 0.9


# -- the report screen -------------------------------------------------------------------------


class _GapTable(HTMLParser):
    """The rows of the gap-topics table (without the action column) and the draft forms."""

    def __init__(self):
        super().__init__()
        self.rows, self.forms, self.details = [], [], []
        self._in_table = self._row = self._cell = self._form = None
        self._skip_cell = False
        self._details = None  # text of the open 'Details' of a topic

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("data-report-table") == "Gap topics":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self._row = []
        elif self._in_table and tag in ("td", "th") and self._row is not None:
            self._skip_cell = "kb-gap-action" in (attrs.get("class") or "")
            self._cell = ""
        elif self._in_table and tag == "form":
            self._form = {"action": attrs["action"], "fields": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input":
            self._form["fields"].append((attrs["name"], attrs.get("value", "")))
        elif self._in_table and tag == "details":
            self._details = ""
        elif self._details is not None and tag == "li":
            self._details += " | "

    def handle_data(self, data):
        if self._details is not None:
            self._details += data
        elif self._cell is not None and not self._skip_cell:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            if not self._skip_cell:
                self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "form":
            self._form = None
        elif tag == "details" and self._details is not None:
            self.details.append(" ".join(self._details.split()))
            self._details = None
        elif tag == "table":
            self._in_table = False


def _screen(html):
    parser = _GapTable()
    parser.feed(html)
    return parser


def test_report_lists_the_topic_and_csv_export_matches_the_screen(users, manager):
    _unanswered_coffee_demand(users)
    response = manager.get(REPORT, {"period": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Largest gap topics over time" in html and "<svg" in html
    screen = _screen(html)
    assert screen.rows[0][:3] == ["#", "Topic", "Volume"]
    coffee_rows = [row for row in screen.rows[1:] if "coffee" in row[1].lower()]
    assert coffee_rows and coffee_rows[0][2] == "6"

    exported = manager.get(REPORT, {"period": "7", "export": "csv"})
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    start = rows.index(["Gap topics"])
    table = []
    for row in rows[start + 1 :]:
        if not row:
            break
        table.append(row)
    # The export has every column; the screen shows the same topics with the same figures,
    # and what it has no column for is in each topic's details.
    head = table[0]
    shown = ["#", "Topic", "Volume", "Change vs first half", "Languages", "Closest article"]
    assert [[row[head.index(h)] for h in shown] for row in table[1:]] == screen.rows[1:]
    for row, details in zip(table[1:], screen.details, strict=True):
        for example in row[head.index("Example queries")].split(" | "):
            assert example in details
        assert row[head.index("Channels")] in details


def test_gap_table_shows_at_most_seven_columns_and_the_trend_as_small_charts(users, manager):
    """Twelve columns ran off a 1280 px screen and five topics on one chart were a tangle."""
    _unanswered_coffee_demand(users)
    html = manager.get(REPORT, {"period": "7"}).content.decode()
    screen = _screen(html)
    assert len(screen.rows[0]) + 1 <= 7  # + the action column
    assert all(len(row) == len(screen.rows[0]) for row in screen.rows)
    trend = html.split('class="kb-multiples"')[1].split("</ol>")[0]
    panels = trend.count('class="kb-multiples__panel"')
    assert 1 <= panels <= 5
    assert trend.count("<polyline") == panels  # one line per small chart
    assert "coffee" in trend.lower()


def test_report_filters_by_channel_and_language(users, manager):
    _unanswered_coffee_demand(users)
    public = _screen(manager.get(REPORT, {"period": "7", "channel": "public"}).content.decode())
    coffee = [row for row in public.rows[1:] if "coffee" in row[1].lower()]
    assert coffee and coffee[0][2] == "4"
    dutch = _screen(manager.get(REPORT, {"period": "7", "locale": "nl"}).content.decode())
    assert not [row for row in dutch.rows[1:] if len(row) > 1 and "coffee" in row[1].lower()]


def test_create_draft_article_from_a_topic_makes_a_redacted_wip_draft(users, manager):
    _unanswered_coffee_demand(users)
    screen = _screen(manager.get(REPORT, {"period": "7"}).content.decode())
    row_index = next(i for i, row in enumerate(screen.rows[1:]) if "coffee" in row[1].lower())
    form = screen.forms[row_index]
    data = {}
    for name, value in form["fields"]:
        data.setdefault(name, []).append(value)
    # The examples contain the phone number only as a placeholder; add a raw one to prove the
    # draft is redacted whatever the form sends.
    data["phrasing"].append("coffee machine C12, my mail is jan@example.be")
    before = set(SolutionArticlePage.objects.values_list("pk", flat=True))
    response = manager.post(form["action"], data)
    page = SolutionArticlePage.objects.exclude(pk__in=before).get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/pages/{page.pk}/edit/"
    assert not page.live
    assert page.kcs_state == SolutionArticlePage.KCS_WIP
    assert page.locale.language_code == "en"
    lines = page.issue.splitlines()
    assert "coffee machine C12, my mail is [EMAIL]" in lines
    assert any("error C12" in line for line in lines)
    assert "jan@example.be" not in page.issue and "0475" not in page.issue
    assert page.get_latest_revision() is not None


def test_create_draft_needs_a_phrasing_and_post(manager):
    assert manager.get(DRAFT).status_code == 405
    before = SolutionArticlePage.objects.count()
    response = manager.post(DRAFT, {"locale": "en"})
    assert response.status_code == 302 and response["Location"].startswith(REPORT)
    assert SolutionArticlePage.objects.count() == before


def test_only_second_line_and_managers_see_the_report_or_create_drafts(
    operator, secondline, manager
):
    anonymous = Client()
    response = anonymous.get(REPORT)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert operator.get(REPORT).status_code in (302, 403)
    before = SolutionArticlePage.objects.count()
    assert operator.post(DRAFT, {"phrasing": ["x problem"], "locale": "en"}).status_code in (
        302,
        403,
    )
    assert SolutionArticlePage.objects.count() == before
    # Second line writes the next articles from the gaps: they see the report and its menu entry.
    assert secondline.get(REPORT).status_code == 200
    assert REPORT in secondline.get("/admin/").content.decode()
    assert REPORT in manager.get("/admin/").content.decode()


# -- the command -------------------------------------------------------------------------------


def test_command_prints_the_topics_and_json_is_valid(users):
    _unanswered_coffee_demand(users)
    out = StringIO()
    call_command("knowledge_gaps", "--days", "1", stdout=out)
    text = out.getvalue()
    assert "volume 6" in text and "coffee" in text.lower() and "closest article:" in text
    out = StringIO()
    call_command("knowledge_gaps", "--days", "1", "--json", stdout=out)
    data = json.loads(out.getvalue())
    coffee = [t for t in data["topics"] if "coffee" in t["label"].lower()]
    assert coffee[0]["volume"] == 6 and len(coffee[0]["examples"]) >= 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--days", "0"], "between 1 and"),
        (["--channel", "fax"], "Unknown channel"),
        (["--locale", "de"], "Unknown language"),
        (["--service", "no-such-service"], "Unknown service"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_command_rejects_bad_arguments_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("knowledge_gaps", *args, stdout=StringIO())


# -- in a browser, with a month of demo events --------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_knowledge_gaps_report_with_demo_events_in_a_browser(login_browser, users):
    from search.demo.events import load_demo_events

    load_demo_events(days=21, seed=2, calls_per_day=10, visits_per_day=8)
    page = login_browser(users["manager"])
    # The admin scrolls inside its own container: a tall window gets the table in the picture.
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(REPORT)
    page.get_by_role("heading", name="Gap topics", exact=True).wait_for()
    assert page.locator("svg[role=img] polyline").count() >= 1
    assert page.locator("tr[data-gap-topic]").count() >= 3
    assert page.get_by_role("button", name="Create draft article").first.is_visible()
    screenshot(page, "report-knowledge-gaps")


def test_unanswered_searches_keep_their_vector_so_the_report_encodes_nothing_new(users):
    import datetime

    import numpy as np
    from django.utils import timezone

    from embeddings.encoder import comparison_model_id, get_encoder
    from insights.gaps import REFINEMENT_WINDOW, embed_texts, normalise
    from insights.models import QueryVector
    from search import jobs
    from textutils.redaction import redact

    customer = Client()
    # Two coffee queries, one of them with a phone number the redaction removes.
    for query in [COFFEE[0]] + COFFEE[3:]:
        assert _public_search(customer, query)["no_good_match"]
    # English searches are served by MiniLM: the request does not encode them a second time in
    # the comparison model; the worker's gap_vectors job does, from the logged (redacted) text.
    assert QueryVector.objects.count() == 0
    later = timezone.now() + REFINEMENT_WINDOW + datetime.timedelta(seconds=1)
    assert jobs.gap_vectors(now=later).startswith("2 of 2")
    assert QueryVector.objects.count() == 2
    keys = [normalise(COFFEE[0]), normalise(redact(COFFEE[3]))]
    assert "0475" not in keys[1]  # no vector of a text that held personal data is stored
    vectors, encoded_now = embed_texts(keys)
    assert encoded_now == 0 and vectors.shape[0] == 2
    # ... and they are the vectors the report would have computed itself.
    expected = get_encoder(comparison_model_id()).encode_queries(keys)
    assert np.allclose(vectors, expected, atol=1e-5)
    # An answered search feeds no gap, so nothing is kept for it.
    assert not _public_search(customer, "my printer is offline")["no_good_match"]
    assert jobs.gap_vectors(now=later).startswith("0 of 2")
    assert QueryVector.objects.count() == 2
