"""Console search-as-you-type: a prefix the operator refined is not a gap question of its
own, also when redaction changed its tail (the half-typed customer number, phone number or
e-mail address stays as typed; the complete one becomes a placeholder)."""

import pytest

from insights.gaps import knowledge_gaps, normalise, refines
from tests.conftest import logged_in
from textutils.redaction import redact

PREFIX = "coffee machine C12 for customer CUST-"
FULL = "coffee machine C12 for customer CUST-1234567"


@pytest.mark.model
@pytest.mark.django_db
def test_a_prefix_whose_customer_number_was_still_being_typed_counts_once(users):
    operator = logged_in(users["operator"])
    for query in (PREFIX, FULL):
        data = operator.get(
            "/api/v1/search/", {"q": query, "locale": "en", "source": "console"}
        ).json()
        assert data["no_good_match"], query

    report = knowledge_gaps(days=1, min_volume=1)
    examples = [example for topic in report.topics for example in topic.examples]
    assert report.items == 1
    assert examples == ["coffee machine C12 for customer [CUSTOMER_NUMBER]"]


@pytest.mark.parametrize(
    "typed, then",
    [
        ("my customer number is CUST-", "my customer number is CUST-1234567"),
        ("CUST-12", "CUST-1234567 modem keeps rebooting"),
        ("call me on 0475 12", "call me on 0475 12 34 56 about the modem"),
        ("mail jan.peeters@exa", "mail jan.peeters@example.com"),
        ("my iban is BE68 5390", "my iban is BE68 5390 0754 7034"),
        # Long enough to be redacted already: both read the same once redacted.
        ("mail jan.peeters@example.be", "mail jan.peeters@example.com"),
        ("printer broken", "printer broken on floor 2"),  # a plain extension, as before
    ],
)
def test_a_prefix_refined_past_redaction_is_recognised(typed, then):
    assert refines(normalise(redact(typed)), normalise(redact(then)))


@pytest.mark.parametrize(
    "typed, then",
    [
        ("printer broken", "printer fixed"),  # a different question
        ("modem blinks", "call 0475 12 34 56"),  # the earlier words are not a number
        ("wifi down", "0475 12 34 56"),
        ("printer", "printer"),  # the same search again, no redaction involved
    ],
)
def test_a_different_search_is_not_a_refinement(typed, then):
    assert not refines(normalise(redact(typed)), normalise(redact(then)))
