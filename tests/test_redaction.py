import pytest

from textutils.redaction import redact


@pytest.mark.parametrize(
    "text,placeholder,secret",
    [
        ("mail me at jan.peeters+kb@example.be please", "[EMAIL]", "jan.peeters+kb@example.be"),
        ("bel me op 0475 12 34 56", "[PHONE]", "0475 12 34 56"),
        ("mon numéro +32 475 12 34 56", "[PHONE]", "475 12 34 56"),
        ("office 02/555.01.10 ext", "[PHONE]", "555.01.10"),
        ("call 0032 2 555 01 10", "[PHONE]", "555 01 10"),
        ("UK line +44 20 7946 0958", "[PHONE]", "7946 0958"),
        ("iban BE68 5390 0754 7034 wrong", "[IBAN]", "5390 0754 7034"),
        ("IBAN BE68539007547034", "[IBAN]", "BE68539007547034"),
        ("rijksregisternummer 85.07.30-033.61", "[NATIONAL_NUMBER]", "85.07.30-033.61"),
        ("numéro national 85073003361", "[NATIONAL_NUMBER]", "85073003361"),
        ("card 4111 1111 1111 1111 declined", "[CARD]", "4111 1111 1111 1111"),
        ("klantnummer CUST-12345678", "[CUSTOMER_NUMBER]", "12345678"),
    ],
)
def test_personal_data_becomes_a_placeholder(text, placeholder, secret):
    cleaned = redact(text)
    assert placeholder in cleaned and secret not in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "error E-202 on the decoder",
        "Windows 11 update 24H2",
        "torch 2.13.0",
        "P1 incident since 08:30",
        "printer on floor 3",
        "wifi 5 GHz",
    ],
)
def test_ordinary_helpdesk_words_are_kept(text):
    assert redact(text) == text


def test_customer_number_patterns_are_configurable(settings):
    settings.KB_CUSTOMER_NUMBER_PATTERNS = [r"\bKL\d{5}\b"]
    assert redact("klant KL12345 belt") == "klant [CUSTOMER_NUMBER] belt"


def test_redaction_is_idempotent():
    once = redact("jan@example.be 0475 12 34 56 BE68 5390 0754 7034")
    assert redact(once) == once
