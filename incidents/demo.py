"""Demo known problems: the TV decoder error E-301 (the largest topic in the demo gap report)
as an active public problem in nl/fr/en, an internal one, two resolved ones, and the calls
and tickets linked to them. Idempotent: a problem whose English title exists is left alone."""

import datetime

from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale

from articles.models import EscalationTeam, Service

from .models import IncidentLink, KnownProblem, KnownProblemStatusChange

DECLARED_AFTER_MINUTES = 25
TV_SERVICE = {
    "slug": "tv-decoder",
    "team": "network-operations",
    "category": "Telecom",
    "names": {
        "en": ("TV and decoder", "Digital TV, the decoder (TV box) and the TV app."),
        "nl": ("Tv en decoder", "Digitale tv, de decoder (tv-box) en de tv-app."),
        "fr": ("TV et décodeur", "Télévision numérique, le décodeur (box TV) et l'app TV."),
    },
}

E301 = {
    "title_en": "TV decoder error E-301: channels stay black",
    "title_nl": "Tv-decoder foutcode E-301: zenders blijven zwart",
    "title_fr": "Décodeur TV erreur E-301 : les chaînes restent noires",
    "customer_text_en": (
        "Since this morning many TV decoders show error E-301 and every channel stays black. "
        "Our technicians are working on it; you do not need to report it again."
    ),
    "customer_text_nl": (
        "Sinds vanochtend tonen veel tv-decoders foutcode E-301 en blijven alle zenders zwart. "
        "Onze technici werken eraan; u hoeft het niet opnieuw te melden."
    ),
    "customer_text_fr": (
        "Depuis ce matin, de nombreux décodeurs TV affichent l'erreur E-301 et toutes les "
        "chaînes restent noires. Nos techniciens y travaillent ; inutile de nous le signaler."
    ),
    "workaround_en": "Watch live TV in the TV app on your phone, tablet or computer.",
    "workaround_nl": "Kijk live tv in de tv-app op uw gsm, tablet of computer.",
    "workaround_fr": "Regardez la télévision en direct dans l'app TV sur votre GSM, tablette ou ordinateur.",
    "status": KnownProblem.STATUS_WORKAROUND,
    "is_public": True,
    "regions": "Flanders and Brussels",
    "internal_notes": "Head-end firmware rollout 4.2 suspected; network operations on bridge.",
}
INTERNAL = {
    "title_en": "Payment reminders sent twice to direct-debit customers",
    "title_nl": "Betalingsherinneringen twee keer verstuurd aan klanten met domiciliëring",
    "title_fr": "Rappels de paiement envoyés deux fois aux clients en domiciliation",
    "customer_text_en": "Some customers with direct debit received the same payment reminder twice.",
    "workaround_en": "Confirm the direct debit is active; the second reminder can be ignored.",
    "status": KnownProblem.STATUS_IDENTIFIED,
    "is_public": False,
    "internal_notes": "Batch job ran twice on Monday. Billing will send a correction mail.",
}
RESOLVED = [
    {
        "title_en": "VPN gateway outage: cannot connect from home",
        "title_nl": "Storing VPN-gateway: thuis geen verbinding",
        "title_fr": "Panne de la passerelle VPN : pas de connexion depuis la maison",
        "customer_text_en": "The company VPN refused all connections.",
        "status": KnownProblem.STATUS_RESOLVED,
        "is_public": True,
        "_service": "vpn-remote-access",
        "_days_ago": 6,
        "_hours": 3,
    },
    {
        "title_en": "No mobile data in Gent",
        "title_nl": "Geen mobiele data in Gent",
        "title_fr": "Pas de données mobiles à Gand",
        "customer_text_en": "Mobile internet did not work around Gent.",
        "status": KnownProblem.STATUS_RESOLVED,
        "is_public": True,
        "postcodes": "9000-9052",
        "regions": "Gent",
        "_service": "mobile-telecom",
        "_days_ago": 12,
        "_hours": 5,
    },
]


def ensure_tv_service():
    team = EscalationTeam.objects.filter(slug=TV_SERVICE["team"]).first()
    base = None
    for code, (name, description) in TV_SERVICE["names"].items():
        locale = Locale.objects.filter(language_code=code).first()
        if locale is None:
            continue
        service = Service.objects.filter(slug=TV_SERVICE["slug"], locale=locale).first()
        if service is None:
            service = Service(
                slug=TV_SERVICE["slug"],
                locale=locale,
                name=name,
                description=description,
                category=TV_SERVICE["category"],
                owning_team=team,
            )
            if base is not None:
                service.translation_key = base.translation_key
            service.save()
        base = base or service
    return base


def _create(data, service, started_at, steps, links):
    """Create a problem, walk it through `steps` [(status, minutes after start)], add links."""
    fields = {k: v for k, v in data.items() if not k.startswith("_")}
    final_status = fields.pop("status")
    problem = KnownProblem.objects.create(
        **fields, status=KnownProblem.STATUS_INVESTIGATING, started_at=started_at
    )
    if service is not None:
        problem.services.set([service])
    for status, _minutes in steps:
        problem.status = status
        problem.save()
    if final_status != problem.status:
        problem.status = final_status
        problem.save()
    # Declared (first status step) a while after customers were first affected.
    declared = started_at + datetime.timedelta(minutes=DECLARED_AFTER_MINUTES)
    moments = [declared] + [started_at + datetime.timedelta(minutes=m) for _s, m in steps]
    for change, at in zip(problem.status_changes.order_by("pk"), moments, strict=False):
        KnownProblemStatusChange.objects.filter(pk=change.pk).update(changed_at=at)
    if problem.status == KnownProblem.STATUS_RESOLVED:
        KnownProblem.objects.filter(pk=problem.pk).update(ended_at=moments[-1])
    for number, minutes in enumerate(links, start=1):
        IncidentLink.objects.create(
            known_problem=problem,
            ticket_reference=f"INC-{problem.pk:03d}{number:03d}" if number % 3 else "",
            source=IncidentLink.SOURCE_CONSOLE if number % 2 else IncidentLink.SOURCE_INTEGRATION,
            created_at=started_at + datetime.timedelta(minutes=minutes),
        )
    return problem


@transaction.atomic
def load_demo_known_problems(now=None):
    """Create the demo known problems that are missing; returns how many were created."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    tv = ensure_tv_service()
    existing = set(KnownProblem.objects.values_list("title_en", flat=True))
    created = 0
    if E301["title_en"] not in existing:
        start = now - datetime.timedelta(hours=3)
        _create(
            E301,
            tv,
            start,
            [(KnownProblem.STATUS_IDENTIFIED, 40), (KnownProblem.STATUS_WORKAROUND, 95)],
            links=[5, 12, 18, 25, 31, 44, 52, 67, 80, 96, 110, 150],
        )
        created += 1
    if INTERNAL["title_en"] not in existing:
        billing = Service.objects.filter(
            slug="billing-invoices", locale__language_code="en"
        ).first()
        _create(
            INTERNAL,
            billing,
            now - datetime.timedelta(days=1, hours=2),
            [(KnownProblem.STATUS_IDENTIFIED, 90)],
            links=[20, 45, 300],
        )
        created += 1
    for data in RESOLVED:
        if data["title_en"] in existing:
            continue
        service = Service.objects.filter(slug=data["_service"], locale__language_code="en").first()
        start = now - datetime.timedelta(days=data["_days_ago"])
        hours = data["_hours"]
        _create(
            data,
            service,
            start,
            [
                (KnownProblem.STATUS_IDENTIFIED, 30),
                (KnownProblem.STATUS_RESOLVED, hours * 60),
            ],
            links=list(range(10, hours * 60, 25)),
        )
        created += 1
    return created
