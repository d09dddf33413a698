"""Writes tests/data/redaction_corpus.jsonl: the labelled corpus behind test_redaction_corpus.

Each line: {"lang", "text", "personal": [strings that must not survive redaction],
"technical": [tokens that should survive verbatim]}. Personal data comes in the written forms
callers and operators use (spacing, dots, brackets, zero-width and full-width characters,
obfuscated e-mail); technical tokens are what a helpdesk searches for. Every number is a
test value (valid checksums where the kind has one, fictitious subscribers).
Run: .venv/bin/python tests/data/build_redaction_corpus.py
"""

import itertools
import json
from pathlib import Path

ZWSP, ZWJ, WJ, SHY, NBSP = "\u200b", "\u200d", "\u2060", "\u00ad", "\u00a0"


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


PERSONAL = {
    "email": [
        "jan.peeters@example.be",
        "JAN.PEETERS@EXAMPLE.BE",
        "an.de.smet+factuur@telenet.be",
        "marie-claire.dupont@skynet.be",
        f"piet{ZWSP}@example.be",
        f"piet@{ZWSP}example.be",
        f"jo{SHY}hn@example.com",
        f"el{ZWJ}ke@outlook.be",
        f"noor{WJ}@example.be",
        f"pieter.{ZWSP}claes@example.be",
        fullwidth("jan@example.be"),
        "jan\uff20example.be",
        "jan [at] example [dot] be",
        "jan(at)example.be",
        "jan at example dot be",
        "sophie (at) proximus (dot) be",
        "jan @ example.be",
        "<lies.maes@hotmail.com>",
        "josé.françois@exemple.fr",
        "k.janssens@sub.domain.example.co.uk",
        "info@bakkerij-peeters.be",
        "kim_vd@gmail.com",
        "luc.verhaegen@proximus.be",
        "camille.lambert@voo.be",
        "w.de.vos@kpn.nl",
        "nathalie_m@orange.fr",
        "jeroen [at] telenet [dot] be",
    ],
    "phone": [
        "(0470) 12 34 56",
        "0470  12 34 56",
        "0470 12 34 56",
        "0470123456",
        "0470/12.34.56",
        "0470-12-34-56",
        "0470.12.34.56",
        "04 70 12 34 56",
        "+32 470 12 34 56",
        "+32470123456",
        "+32 (0)470 12 34 56",
        "0032 470 12 34 56",
        "0032470123456",
        "+32-470-12-34-56",
        "0486/98.76.54",
        "0497 65 43 21",
        "0496 11 22 33",
        "02 555 01 10",
        "02/555.01.10",
        "09 234 56 78",
        "03 234 56 78",
        "011 22 33 44",
        "+32 2 555 01 10",
        "+32 (0) 9 234 56 78",
        "078 15 15 15",
        "+31 6 12345678",
        "06-12345678",
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "+33 1 42 68 53 00",
        "+352 621 123 456",
        "+49 30 12345678",
        "+44 20 7946 0958",
        "+1 415 555 2671",
        fullwidth("0470 12 34 56"),
        f"0470{NBSP}12{NBSP}34{NBSP}56",
        f"0470{ZWSP}12 34 56",
        f"+32{ZWSP}470{ZWSP}12{ZWSP}34{ZWSP}56",
        "0477 88 99 00",
        "0468 12 34 56",
    ],
    "iban": [
        "BE71 0961 2345 6769",
        "BE71096123456769",
        "be71 0961 2345 6769",
        "BE71-0961-2345-6769",
        "BE68 5390 0754 7034",
        "BE62 5100 0754 7061",
        "NL91 ABNA 0417 1643 00",
        "NL91ABNA0417164300",
        "FR14 2004 1010 0505 0001 3M02 606",
        "DE89 3704 0044 0532 0130 00",
        "LU28 0019 4006 4475 0000",
        "GB29 NWBK 6016 1331 9268 19",
        fullwidth("BE71 0961 2345 6769"),
        f"BE71{ZWSP}0961{ZWSP}2345{ZWSP}6769",
    ],
    "national_number": [
        "85.07.30-033.28",
        "85073003328",
        "85 07 30 033 28",
        "850730-033.28",
        "93.05.18-223.61",
        "01.02.03-456.03",
        "77041218731",
        "68.12.25-001.82",
        "85.47.30-033.17",
        "90221012468",
        "85.07.30-033.61",
        f"85.07.30{ZWSP}-033.28",
    ],
    "vat": [
        "BE 0403.170.701",
        "BE0403170701",
        "BE 0403 170 701",
        "BE0477.472.701",
        "BE 0202.239.951",
        "BE0812345603",
        "BE 0765.432.146",
    ],
    "card": [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111.1111.1111.1111",
        "4111111111111111",
        "5555 5555 5555 4444",
        "5105 1051 0510 5100",
        "3782 822463 10005",
        "378282246310005",
        "3714 496353 98431",
        "6011 1111 1111 1117",
        "4012 8888 8888 1881",
        "6703 4444 4444 4449",
        "2223 0031 2200 3222",
        "4532 0151 1283 0366",
        fullwidth("4111 1111 1111 1111"),
    ],
    "customer_number": [
        "CUST 1234567",
        "CUST-1234567",
        "CUST1234567",
        "cust 12345678",
        "CUST - 1234567",
        "CUST 123 4567",
        "CUST-123-4567",
        f"CUST{ZWSP}1234567",
    ],
    "public_ip": [
        "81.82.83.84",
        "213.49.120.7",
        "94.224.10.3",
        "178.116.42.9",
        "2a02:1810:4d02:9a00::1",
        "91.183.20.1",
    ],
}

# Labelled forms: the label stays, the value goes.
LABELLED_PERSONAL = [
    ("nl", "klantnummer 7654321 heeft geen internet", "7654321"),
    ("nl", "klantnr. 7654321, modem knippert", "7654321"),
    ("fr", "numéro client 4455667, pas de télé", "4455667"),
    ("fr", "n° client : 998877665 facture erronée", "998877665"),
    ("en", "customer number 55501234 cannot log in", "55501234"),
    ("en", "customer id 8877665 asks for a refund", "8877665"),
    ("nl", "klant-id 8877665 belt voor de derde keer", "8877665"),
    ("nl", "rijksregisternummer 12345678901 voor de eID", "12345678901"),
    ("fr", "NISS 12.34.56-789.01 pour itsme", "12.34.56-789.01"),
    ("en", "national number 85073003361 for the contract", "85073003361"),
    ("nl", "kaart 4111 1111 1111 1112 geweigerd", "4111 1111 1111 1112"),
    ("fr", "carte 4970 1000 0000 0000 refusée", "4970 1000 0000 0000"),
    ("en", "tel 0470 12 34 5 (one digit missing)", "0470 12 34 5"),
    ("nl", "gsm: 0470 1234 567 8", "0470 1234 567 8"),
    ("fr", "IBAN BE00 1234 5678 9012 (mal recopié)", "BE00 1234 5678 9012"),
    ("nl", "btw-nummer 0403.170.702", "0403.170.702"),
    ("fr", "TVA 0477 472 701 sur la facture", "0477 472 701"),
    ("en", "VAT 0202239951 on the invoice", "0202239951"),
    ("en", "amex 3782 822463 10005 declined", "822463"),
    ("en", "card 4111.1111.1111.1111 refused", "1111"),
    ("nl", "bel me op 0475 12 34 56 2 keer geprobeerd", "0475"),
    ("en", f"mail piet{ZWSP}@example.be and 0470 12 34 56", "piet"),
    ("nl", "link mailto:tom@voorbeeld.nl werkt niet", "tom@voorbeeld.nl"),
    ("en", "reply to <lies.maes@hotmail.com> today", "lies.maes@hotmail.com"),
    ("fr", "IP publique 81.82.83.84, passerelle 192.168.1.1", "81.82.83.84"),
]

TEMPLATES = {
    "email": {
        "nl": ["mail naar {v} aub", "mijn e-mailadres is {v}", "{v} krijgt geen facturen meer"],
        "fr": ["écrivez-moi à {v} merci", "mon adresse est {v}", "{v} ne reçoit plus de mails"],
        "en": ["send it to {v} please", "my address is {v}", "{v} gets no mail since Monday"],
    },
    "phone": {
        "nl": ["bel me terug op {v}", "mijn nummer is {v} graag vandaag", "{v} heeft geen bereik"],
        "fr": ["rappelez-moi au {v}", "mon numéro est le {v}", "le {v} ne sonne plus"],
        "en": ["call me back on {v}", "my number is {v} after 5 pm", "{v} has no signal"],
    },
    "iban": {
        "nl": ["domiciliëring op {v} mislukt", "terugbetalen op {v}", "rekening {v} gedebiteerd"],
        "fr": ["domiciliation sur {v} refusée", "remboursez sur {v}", "compte {v} débité"],
        "en": ["direct debit from {v} failed", "refund to {v}", "account {v} charged twice"],
    },
    "national_number": {
        "nl": ["mijn rijksregisternummer is {v}", "itsme vraagt {v}", "{v} staat op mijn eID"],
        "fr": ["mon numéro national est {v}", "itsme demande {v}", "{v} sur ma carte eID"],
        "en": ["my national number is {v}", "itsme asks for {v}", "{v} is on my eID"],
    },
    "vat": {
        "nl": ["factuur op naam van {v}", "btw {v} klopt niet", "zaak met {v} belt"],
        "fr": ["facture au nom de {v}", "TVA {v} erronée", "la société {v} appelle"],
        "en": ["invoice for {v}", "VAT {v} is wrong", "company {v} is calling"],
    },
    "card": {
        "nl": ["betaald met {v}", "kaart {v} geweigerd", "{v} werd twee keer gedebiteerd"],
        "fr": ["payé avec {v}", "carte {v} refusée", "{v} débitée deux fois"],
        "en": ["paid with {v}", "card {v} declined", "{v} was charged twice"],
    },
    "customer_number": {
        "nl": ["klant {v} belt over de factuur", "dossier {v} heeft geen internet", "{v} verhuist"],
        "fr": ["le client {v} appelle", "dossier {v} sans internet", "{v} déménage"],
        "en": ["customer {v} calls about the bill", "account {v} has no internet", "{v} moves"],
    },
    "public_ip": {
        "nl": ["mijn ip is {v}", "verbinding vanaf {v} geweigerd", "{v} staat op een blacklist"],
        "fr": ["mon adresse IP est {v}", "connexion depuis {v} refusée", "{v} est blacklistée"],
        "en": ["my IP is {v}", "connection from {v} refused", "{v} is on a blacklist"],
    },
}

TECHNICAL = [
    "10.0.19045.3803",
    "10.0.22631.2861",
    "2.14.1.220930",
    "iOS 17.4.1",
    "Android 14",
    "firmware 3.0.17.2024",
    "v8.1.2",
    "versie 1.2.3.4",
    "124.0.6367.91",
    "16.0.17328.20162",
    "5.15.0-91-generic",
    "23H2",
    "24H2",
    "7.29.1",
    "2023.11.2",
    "v2.0.1",
    "31.0.101.4953",
    "27.20.100.9664",
    "120.0.6099.130",
    "TP1A.220624.014",
    "UKQ1.230917.001",
    "S918BXXU1AWBD",
    "build 22631.2861",
    "build 19045.3803",
    "build 20240315",
    "build 7601",
    "OS build 22621.3007",
    "version 2311",
    "192.168.100.254",
    "192.168.1.1",
    "192.168.0.1",
    "10.0.0.138",
    "10.11.12.1",
    "172.16.0.1",
    "172.31.255.254",
    "127.0.0.1",
    "169.254.12.7",
    "100.64.0.1",
    "fe80::1ff:fe23:4567:890a",
    "fd12:3456:789a::1",
    "8.8.8.8",
    "1.1.1.1",
    "255.255.255.0",
    "IMEI 356938035643809",
    "IMEI: 490154203237518",
    "IMEI 35-209900-176148-1",
    "imei 353918106071451",
    "S/N 4820231234",
    "serial number 21A3B4C5D6",
    "serienummer FX123456789",
    "MAC 00:1A:2B:3C:4D:5E",
    "MAC-adres AC-DE-48-00-11-22",
    "KB5034441",
    "KB 4023057",
    "KB5001716",
    "KB890830",
    "E-301",
    "E-202",
    "error 651",
    "error 720",
    "0x80070005",
    "0x800CCC0E",
    "0xc000021a",
    "DNS_PROBE_FINISHED_NXDOMAIN",
    "ERR_CONNECTION_TIMED_OUT",
    "code 43",
    "foutcode 2000-0142",
    "erreur 403",
    "HTTP 502",
    "550 5.7.1",
    "ORA-12154",
    "STOP 0x0000007E",
    "0x80004005",
    "error 1603",
    "H368",
    "FRITZ!Box 7590",
    "F@st 3686",
    "b-box 3V+",
    "port 8080",
    "port 443",
    "3389",
    "5 GHz",
    "2.4 GHz",
    "DOCSIS 3.1",
    "1000 Mbps",
    "802.11ax",
    "MTU 1500",
    "VLAN 10",
    "SIP 5060",
    "2024-03-15 10:30:15",
    "15/03/2024",
    "12.03.2024",
    "INC0012345",
    "P1",
    "Office 365",
    "Windows 11",
    "ticket 0123456789",
    "1.0.0.1",
    "9.9.9.9",
    "2001:4860:4860::8888",
    "ipv6 ::1",
    "CVE-2024-21412",
    "SHA256 9f86d081884c7d65",
    "AA-BB-01",
    "G.993.2",
    "H.264",
    "EN 50173",
    "ISO 27001",
    "RFC 1918",
    "Android 13 build TQ3A.230901.001",
    "BIOS 1.17.0",
    "driver 23.40.14.01",
    "model 7530",
]

TECH_TEMPLATES = {
    "nl": [
        "na update naar {v} geen internet",
        "{v} op het scherm",
        "probleem met {v} sinds gisteren",
    ],
    "fr": ["après la mise à jour {v} plus rien", "{v} s'affiche", "souci avec {v} depuis hier"],
    "en": ["after updating to {v} nothing works", "{v} on the screen", "trouble with {v} since"],
}


def build():
    rows = []
    languages = itertools.cycle(["nl", "fr", "en"])
    for kind, values in PERSONAL.items():
        for i, value in enumerate(values):
            lang = next(languages)
            template = TEMPLATES[kind][lang][i % 3]
            rows.append(
                {"lang": lang, "kind": kind, "text": template.format(v=value), "personal": [value]}
            )
    for lang, text, secret in LABELLED_PERSONAL:
        rows.append({"lang": lang, "kind": "labelled", "text": text, "personal": [secret]})
    for i, token in enumerate(TECHNICAL):
        for lang in ("nl", "fr", "en") if i % 3 == 0 else (next(languages),):
            template = TECH_TEMPLATES[lang][i % 3]
            rows.append(
                {
                    "lang": lang,
                    "kind": "technical",
                    "text": template.format(v=token),
                    "technical": [token],
                }
            )
    # Both in one sentence, as an operator's note has them.
    mixed = list(
        zip(
            itertools.cycle(TECHNICAL[::3]),
            PERSONAL["phone"][:12]
            + PERSONAL["email"][:10]
            + PERSONAL["iban"][:5]
            + PERSONAL["card"][:5],
        )
    )
    for i, (token, secret) in enumerate(mixed):
        lang = ("nl", "fr", "en")[i % 3]
        joiner = {
            "nl": "{t} werkt niet, bel {s}",
            "fr": "{t} en panne, contact {s}",
            "en": "{t} broken, reach me at {s}",
        }[lang]
        rows.append(
            {
                "lang": lang,
                "kind": "mixed",
                "text": joiner.format(t=token, s=secret),
                "personal": [secret],
                "technical": [token],
            }
        )
    for row in rows:
        row.setdefault("personal", [])
        row.setdefault("technical", [])
    return rows


if __name__ == "__main__":
    path = Path(__file__).with_name("redaction_corpus.jsonl")
    rows = build()
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} strings written to {path}")
