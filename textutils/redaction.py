"""Remove personal data from free text before it is stored, logged or put in a URL.

Validate before replacing. The text is normalised first (Unicode NFKC, zero-width and other
invisible format characters removed), then every candidate is checked by the library that
knows its kind before it becomes a placeholder:

| kind                  | placeholder          | checked with                                      |
|-----------------------|----------------------|---------------------------------------------------|
| e-mail address        | [EMAIL]              | shape (also "jan [at] example [dot] be")          |
| phone number          | [PHONE]              | `phonenumbers` (valid BE, NL, FR or +international)|
| IBAN                  | [IBAN]               | `python-stdnum` (mod-97 and the country's format) |
| Belgian national / BIS number | [NATIONAL_NUMBER] | `python-stdnum` (mod-97 checksum)             |
| Belgian VAT/enterprise number | [VAT]        | `python-stdnum` (mod-97 checksum)                 |
| payment card          | [CARD]               | Luhn (`python-stdnum`) and an issuer prefix        |
| customer number       | [CUSTOMER_NUMBER]    | KB_CUSTOMER_NUMBER_PATTERNS, spacing-tolerant     |
| public IP address     | [IP]                 | `ipaddress`: only globally routable ones          |

A candidate that fails its check is still redacted when the words before it say what it is
("rijksregisternummer", "IBAN", "kaart", "tel", "klantnummer"...): a mistyped number is still
someone's number. A number labelled as a technical token ("version", "build", "IMEI",
"KB", "error"...) is kept when no check claims more than that token.

All kinds are found on the same normalised text, overlaps go to the longest candidate, and
everything is replaced in one pass, so no half-replaced leftovers (`card [PHONE].1111`).
Why each kind is or is not personal data: docs/privacy.md.
"""

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.conf import settings
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.be import bis as stdnum_bis
from stdnum.be import nn as stdnum_nn
from stdnum.be import vat as stdnum_vat
from stdnum.exceptions import ValidationError as StdnumError

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
IBAN = "[IBAN]"
NATIONAL_NUMBER = "[NATIONAL_NUMBER]"
VAT = "[VAT]"
CARD = "[CARD]"
CUSTOMER_NUMBER = "[CUSTOMER_NUMBER]"
IP = "[IP]"

# Zero-width spaces/joiners, soft hyphen, word joiner, BOM, bidi controls: invisible, so
# they only ever serve to break a pattern (piet\u200b@example.be).
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def normalise(text):
    """NFKC (full-width digits and @, non-breaking spaces...) without invisible characters."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    placeholder: str


# --- context words: what the text says a number is ------------------------------------

_SEP = r"[ \t./\-]"
_BEFORE = 40  # characters before a candidate searched for a label


def _label(words):
    return re.compile(r"(?:" + "|".join(words) + r")\W{0,3}(?:\w+\W{1,3}){0,2}$", re.IGNORECASE)


CONTEXT = {
    PHONE: _label(
        [
            r"\btel",
            r"\btél",
            r"telefoon",
            r"téléphone",
            r"\bphone",
            r"\bgsm",
            r"\bmobile?",
            r"mobiel",
            r"portable",
            r"\bbel\b",
            r"\bcall\b",
            r"appele[rz]",
            r"\bfax",
            r"\bwhatsapp",
        ]
    ),
    IBAN: _label([r"\biban", r"rekening", r"\bcompte", r"\baccount", r"\bbankrekening"]),
    NATIONAL_NUMBER: _label(
        [
            r"rijksregister",
            r"\brrn",
            r"\binsz",
            r"\bniss",
            r"num[ée]ro\s+national",
            r"registre\s+national",
            r"national\s+(?:register\s+)?number",
            r"\bbis",
            r"\bnn\b",
        ]
    ),
    VAT: _label(
        [
            r"\bbtw",
            r"\btva",
            r"\bvat",
            r"ondernemingsn",
            r"\bkbo",
            r"\bbce",
            r"num[ée]ro\s+d'entreprise",
            r"enterprise\s+number",
            r"company\s+number",
        ]
    ),
    CARD: _label(
        [
            r"\bcard",
            r"kaart",
            r"\bcarte",
            r"\bvisa",
            r"mastercard",
            r"\bamex",
            r"american\s+express",
            r"maestro",
            r"bancontact",
            r"\bcb\b",
        ]
    ),
}


def _labelled(text, start, kind):
    return bool(CONTEXT[kind].search(text[max(0, start - _BEFORE) : start]))


# --- technical tokens a helpdesk searches for --------------------------------------------

# "version 10.0.19045.3803", "build 22631.2861", "IMEI 356938035643809", "KB5034441",
# "error E-301", "0x80070005": kept unless a check finds more than the token itself.
TECHNICAL = re.compile(
    r"(?:\b(?:imei(?:sv)?|iccid|serial(?:\s*(?:number|no\.?|nr\.?))?|serienummer|s/?n|"
    r"num[ée]ro\s+de\s+s[ée]rie|n°\s*de\s*s[ée]rie|mac(?:\s*address|-adres)?)\b\W{0,3}"
    r"(?P<device>[0-9a-f](?:[ \-:.]?[0-9a-f]){5,31})"
    r"|\b(?:versions?|versie|ver\.?|build|os\s*build|firmware|fw|driver|bios|release|update|patch|"
    r"kb|error|errors|fout|foutcode|erreur|code|port|poort)\b\W{0,3}"
    r"(?P<token>[a-z0-9][\w.\-/]*)"
    r"|\bv(?P<v>\d+(?:\.\d+)+)\b"
    r"|\bkb\d{6,8}\b"
    r"|\b0x[0-9a-f]{4,16}\b)",
    re.IGNORECASE,
)


def _technical_spans(text):
    spans = []
    for match in TECHNICAL.finditer(text):
        group = next((g for g in ("device", "token", "v") if match.group(g)), None)
        spans.append(match.span(group) if group else match.span())
    return spans


# --- e-mail -------------------------------------------------------------------------------

_TLD = r"(?:[a-z]{2,24})"
EMAIL_RE = re.compile(
    r"(?<![\w.+\-])[\w.+\-]*\w\s?@\s?[\w\-]+(?:\.[\w\-]+)*\." + _TLD + r"(?![\w\-@])",
    re.IGNORECASE,
)
_AT = r"(?:\s?[\[({<]\s?(?:at|@)\s?[\])}>]\s?|\s(?:at|apenstaartje|arobase)\s)"
_DOT = r"(?:\s?[\[({<]\s?(?:dot|punt|point|\.)\s?[\])}>]\s?|\s(?:dot|punt|point)\s|\.)"
OBFUSCATED_EMAIL_RE = re.compile(
    r"(?<![\w.+\-])[\w.+\-]*\w"
    + _AT
    + r"[\w\-]+(?:"
    + _DOT
    + r"[\w\-]+)*"
    + _DOT
    + r"(?:be|com|net|org|nl|fr|eu|lu|de|uk|info|io|biz|me|co)\b",
    re.IGNORECASE,
)


def _emails(text):
    for pattern in (EMAIL_RE, OBFUSCATED_EMAIL_RE):
        for match in pattern.finditer(text):
            yield Finding(*match.span(), EMAIL)


# --- phone numbers ------------------------------------------------------------------------

_LENIENCY = phonenumbers.Leniency.VALID
# Belgian first; Dutch and French national forms only when written in groups
# ("06 12 34 56 78"), so a bare ten-digit ticket number is not taken for a Paris line.
_OTHER_REGIONS = ("NL", "FR")
# A Dutch or French national number: 0 and nine more digits (the only form the other
# regions' matchers are needed for; "+..." numbers are found with any region).
_NATIONAL_FORM = re.compile(r"(?<!\d)0\d(?:[ \t./\-]{0,2}\d){8}(?!\d)")
_DIGIT_RUN = re.compile(r"(?:\+|00)?\(?\d+\)?(?:[ \t./\-]{1,2}\(?\d+\)?)+")


def _valid_phone(candidate, region="BE"):
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _inside_dotted_chain(text, start, end):
    """Part of a longer dotted number (10.0.19045.3803) or a dotted quad: a version or an
    IP address, not a phone number."""
    if re.match(r"\.\d", text[end : end + 2]) or re.search(
        r"\d\.$", text[max(0, start - 2) : start]
    ):
        return True
    return bool(re.fullmatch(r"(?:\d{1,3}\.){3}\d{1,3}", text[start:end]))


def _phones(text):
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, "BE", leniency=_LENIENCY):
        found.append(Finding(match.start, match.end, PHONE))
    regions = _OTHER_REGIONS if _NATIONAL_FORM.search(text) else ()
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=_LENIENCY):
            raw = match.raw_string
            if raw.startswith(("+", "00")) or re.search(r"\d[ \t./\-]+\d", raw):
                found.append(Finding(match.start, match.end, PHONE))
    # A valid number followed or preceded by another group ("0475 12 34 56 2 keer"): the
    # library judges the whole run; try it without the extra groups, cutting at spaces only.
    for run in _DIGIT_RUN.finditer(text):
        groups = [m.span() for m in re.finditer(r"(?:\+|00)?\(?\d+\)?", run.group())]
        base = run.start()
        if len(groups) > 8:
            continue
        cuts = [0] + [
            i
            for i in range(1, len(groups))
            if run.group()[groups[i - 1][1] : groups[i][0]].isspace()
        ]
        for first in cuts:
            for last in reversed(cuts + [len(groups)]):
                if last - first < 2 or (first, last) == (0, len(groups)):
                    continue
                start, end = groups[first][0] + base, groups[last - 1][1] + base
                candidate = text[start:end]
                if candidate.startswith(("0", "+", "(")) and any(
                    _valid_phone(candidate, r) for r in ("BE",) + regions
                ):
                    found.append(Finding(start, end, PHONE))
                    break
    for finding in found:
        if not _inside_dotted_chain(text, finding.start, finding.end):
            yield finding
    # Said to be a phone number: redact even when the library does not know it.
    for match in re.finditer(r"(?<![\w+])\+?\(?\d(?:[ \t./\-()]{0,2}\d){7,14}(?!\w)", text):
        if _labelled(text, match.start(), PHONE):
            yield Finding(*match.span(), PHONE)


# --- IBAN, national number, VAT, cards ------------------------------------------------------

IBAN_RE = re.compile(r"\b[A-Z]{2} ?\d{2}(?:[ \-.]?[A-Z0-9]{1,4}){3,8}", re.IGNORECASE)


def _ibans(text):
    position = 0
    while match := IBAN_RE.search(text, position):
        found = _iban_in(text, match)
        if found:
            yield found
            position = found.end
        else:  # "be 0475 12 ..." is not one, but an IBAN may start inside it
            position = match.start() + 1


def _iban_in(text, match):
    ends = [m.end() for m in re.finditer(r"[A-Z0-9]+", match.group(), re.IGNORECASE)]
    for end in reversed(ends):  # the longest prefix that is a valid IBAN
        compact = re.sub(r"[^A-Z0-9]", "", match.group()[:end].upper())
        if len(compact) < 12:
            break
        try:
            stdnum_iban.validate(compact, check_country=False)
        except StdnumError:
            continue
        return Finding(match.start(), match.start() + end, IBAN)
    if _labelled(text, match.start(), IBAN) and len(re.sub(r"\W", "", match.group())) >= 14:
        return Finding(*match.span(), IBAN)
    return None


NN_RE = re.compile(r"(?<![\d.])(\d\d)([. ]?)(\d\d)\2(\d\d)[ .\-]?(\d{3})[. ]?(\d\d)(?![\d])")
NN_FORMATTED = re.compile(r"\d\d\.\d\d\.\d\d-\d{3}\.\d\d")


def _national_numbers(text):
    for match in NN_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        valid = stdnum_nn.is_valid(digits) or stdnum_bis.is_valid(digits)
        month, day = int(match.group(3)), int(match.group(4))
        plausible_date = month % 20 <= 12 and day <= 31
        formatted = bool(NN_FORMATTED.fullmatch(match.group())) and plausible_date
        if valid or formatted or _labelled(text, match.start(), NATIONAL_NUMBER):
            yield Finding(*match.span(), NATIONAL_NUMBER)


VAT_RE = re.compile(r"(?<![\w.])(BE)?[ \-]?((?:[01]\d)?\d\d[. ]?\d{3}[. ]?\d{3})(?!\w|\.\d)", re.I)


def _vat_numbers(text):
    for match in VAT_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group(2))
        if (match.group(1) and stdnum_vat.is_valid(digits)) or (
            _labelled(text, match.start(), VAT) and len(digits) in (9, 10)
        ):
            yield Finding(*match.span(), VAT)


CARD_RE = re.compile(r"(?<![\w.])\d(?:[ \-.]?\d){11,18}(?!\w)")
# Issuer prefixes: Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37, Diners 30/36/38,
# Discover/Maestro/Bancontact 50 and 56-69, JCB 35.
_CARD_PREFIX = re.compile(r"^(?:4|5[0-9]|2[2-7]|3[0478]|35|6)")


def _cards(text):
    for match in CARD_RE.finditer(text):
        labelled = _labelled(text, match.start(), CARD)
        groups = [m.span() for m in re.finditer(r"\d+", match.group())]
        # Card numbers are written in groups of 3 or more (4-4-4-4, 4-6-5) or unbroken.
        for last in range(len(groups), 0, -1):
            kept = groups[:last]
            if len(kept) > 1 and any(e - s < 3 for s, e in kept[:-1]):
                break
            end = match.start() + kept[-1][1]
            digits = re.sub(r"\D", "", text[match.start() : end])
            if not 13 <= len(digits) <= 19:
                continue
            if labelled or (luhn.is_valid(digits) and _CARD_PREFIX.match(digits)):
                yield Finding(match.start(), end, CARD)
                break


# --- customer numbers -----------------------------------------------------------------------

CUSTOMER_LABEL = re.compile(
    r"(?:klant(?:en)?(?:nummer|nr\.?|\s+nr\.?|-?id)|num[ée]ro\s+(?:de\s+)?client|"
    r"n°\s*(?:de\s+)?client|customer\s*(?:number|no\.?|nr\.?|id|#)|client\s*(?:number|id|nr\.?))"
    r"\W{0,3}(?P<value>[a-z]{0,5}[ \-]?\d(?:[ \-.]?\d){3,14})(?!\w)",
    re.IGNORECASE,
)
# Separators dropped before a customer-number pattern is matched again: first only between
# a letter and a digit ("CUST 1234567"), then also inside the number ("CUST 123 4567").
_SEPARATORS = (
    re.compile(r"(?<=[A-Za-z])[ \t\-./:#]{1,3}(?=\d)"),
    re.compile(r"(?<=[A-Za-z0-9])[ \t\-./:#]{1,3}(?=\d)"),
)


@lru_cache(maxsize=8)
def _customer_patterns(patterns):
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def _compact(text, separator):
    """The text without the separators, and the original index of each character."""
    kept, index, last = [], [], 0
    for sep in separator.finditer(text):
        kept.append(text[last : sep.start()])
        index.extend(range(last, sep.start()))
        last = sep.end()
    kept.append(text[last:])
    index.extend(range(last, len(text)))
    return "".join(kept), index


def _customer_numbers(text):
    for match in CUSTOMER_LABEL.finditer(text):
        yield Finding(*match.span("value"), CUSTOMER_NUMBER)
    patterns = _customer_patterns(tuple(settings.KB_CUSTOMER_NUMBER_PATTERNS))
    for pattern in patterns:
        for match in pattern.finditer(text):
            yield Finding(*match.span(), CUSTOMER_NUMBER)
    for separator in _SEPARATORS:
        compact, index = _compact(text, separator)
        for pattern in patterns:
            for match in pattern.finditer(compact):
                if match.end() > match.start():
                    start, end = index[match.start()], index[match.end() - 1] + 1
                    yield Finding(start, end, CUSTOMER_NUMBER)


# --- IP addresses ---------------------------------------------------------------------------

IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", re.IGNORECASE)
# Public resolvers and services callers are told to use: they identify no one.
WELL_KNOWN_PUBLIC = {
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
}


def _ip_addresses(text):
    for pattern in (IPV4_RE, IPV6_RE):
        for match in pattern.finditer(text):
            try:
                address = ipaddress.ip_address(match.group())
            except ValueError:
                continue
            if address.is_global and str(address) not in WELL_KNOWN_PUBLIC:
                yield Finding(*match.span(), IP)


DETECTORS = (
    _emails,
    _ibans,
    _cards,
    _national_numbers,
    _vat_numbers,
    _customer_numbers,
    _phones,
    _ip_addresses,
)


_MAYBE_EMAIL = re.compile(r"@|\b(?:at|apenstaartje|arobase)\b", re.IGNORECASE)


def find_personal_data(text):
    """Findings in the normalised text, without overlaps (the longest candidate wins)."""
    protected = _technical_spans(text)
    candidates = []
    if any(c.isdigit() for c in text):
        detectors = DETECTORS
    elif _MAYBE_EMAIL.search(text):  # most searches are words only: skip the number checks
        detectors = (_emails, _customer_numbers)
    else:
        detectors = (_customer_numbers,)
    for detector in detectors:
        for finding in detector(text):
            inside_token = any(s <= finding.start and finding.end <= e for s, e in protected)
            if not inside_token or finding.placeholder == EMAIL:
                candidates.append(finding)
    candidates.sort(key=lambda f: (-(f.end - f.start), f.start))
    kept = []
    for finding in candidates:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def redact(text):
    """Text with personal data replaced by placeholders such as [EMAIL]. Normalised
    (NFKC, no invisible characters) whether or not anything was found. Idempotent."""
    if not text:
        return text or ""
    text = normalise(str(text))
    parts, last = [], 0
    for finding in find_personal_data(text):
        parts.append(text[last : finding.start])
        parts.append(finding.placeholder)
        last = finding.end
    parts.append(text[last:])
    return "".join(parts)
