"""Remove personal data from free text before it is stored or logged.

E-mail addresses, phone numbers (Belgian and international), IBANs, Belgian national
register numbers, card-like numbers and configurable customer-number patterns become
placeholders such as [EMAIL]. Order matters: the most specific patterns run first.
"""

import re
from functools import lru_cache

from django.conf import settings

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b", re.IGNORECASE
)
# Belgian national register number: YY.MM.DD-XXX.CC, with or without separators.
NATIONAL_NUMBER = re.compile(r"\b\d{2}[.\s]?\d{2}[.\s]?\d{2}[-\s]?\d{3}[.\s]?\d{2}\b")
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{1,3}[\s./-]?)?(?:\(0\)[\s./-]?)?(?:\d[\s./-]?){8,11}\d\b"
)


@lru_cache(maxsize=8)
def _customer_patterns(patterns):
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def redact(text):
    """Text with personal data replaced by placeholders. Idempotent."""
    if not text:
        return text or ""
    text = EMAIL.sub("[EMAIL]", text)
    for pattern in _customer_patterns(tuple(settings.KB_CUSTOMER_NUMBER_PATTERNS)):
        text = pattern.sub("[CUSTOMER_NUMBER]", text)
    text = IBAN.sub(
        lambda m: "[IBAN]" if any(c.isdigit() for c in m.group()[4:]) else m.group(), text
    )
    text = NATIONAL_NUMBER.sub("[NATIONAL_NUMBER]", text)
    text = CARD.sub("[CARD]", text)
    text = PHONE.sub("[PHONE]", text)
    return text
