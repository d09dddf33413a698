"""Customer- and operator-facing words about known problems, in the three working languages.

Kept here (like search/console_i18n.py) rather than in the shared .po files so this app can be
merged without touching the catalogue other work is translating at the same time."""

STATUS_LABELS = {
    "en": {
        "investigating": "Investigating",
        "identified": "Cause identified",
        "workaround": "Workaround available",
        "resolved": "Resolved",
    },
    "nl": {
        "investigating": "In onderzoek",
        "identified": "Oorzaak gevonden",
        "workaround": "Tijdelijke oplossing beschikbaar",
        "resolved": "Opgelost",
    },
    "fr": {
        "investigating": "En cours d'analyse",
        "identified": "Cause identifiée",
        "workaround": "Solution temporaire disponible",
        "resolved": "Résolu",
    },
}

UI = {
    "en": {
        "banner_label": "Known problem",
        "since": "Since",
        "until": "Until",
        "workaround": "What you can do meanwhile",
        "status_page": "Service status",
        "status_link": "All current problems",
        "current": "Current problems",
        "recent": "Recently resolved",
        "none_current": "There are no known problems at the moment.",
        "none_recent": "No problems were resolved in the last 30 days.",
        "services": "Affects",
        "matching": "This looks like a known problem",
        "link": "Link call to this problem",
        "linked": "Call linked to the known problem",
        "ticket": "Ticket reference (optional)",
        "internal": "internal",
        "deflect_question": "Is this your problem? We already know about it and are working on it.",
        "deflect_yes": "Yes, that is my problem: no need to contact me",
        "send_anyway": "No, send my request",
        "deflect_thanks": "Thank you. We are working on it; follow the progress on the status page.",
    },
    "nl": {
        "banner_label": "Gekende storing",
        "since": "Sinds",
        "until": "Tot",
        "workaround": "Wat u intussen kunt doen",
        "status_page": "Status van de diensten",
        "status_link": "Alle huidige storingen",
        "current": "Huidige storingen",
        "recent": "Onlangs opgelost",
        "none_current": "Er zijn op dit moment geen gekende storingen.",
        "none_recent": "Er werden de voorbije 30 dagen geen storingen opgelost.",
        "services": "Betreft",
        "matching": "Dit lijkt op een gekende storing",
        "link": "Oproep aan deze storing koppelen",
        "linked": "Oproep gekoppeld aan de gekende storing",
        "ticket": "Ticketnummer (optioneel)",
        "internal": "intern",
        "deflect_question": "Is dit uw probleem? We zijn er al van op de hoogte en werken eraan.",
        "deflect_yes": "Ja, dat is mijn probleem: u hoeft me niet te contacteren",
        "send_anyway": "Nee, verstuur mijn vraag",
        "deflect_thanks": "Bedankt. We werken eraan; volg de voortgang op de statuspagina.",
    },
    "fr": {
        "banner_label": "Problème connu",
        "since": "Depuis",
        "until": "Jusqu'au",
        "workaround": "Ce que vous pouvez faire en attendant",
        "status_page": "État des services",
        "status_link": "Tous les problèmes en cours",
        "current": "Problèmes en cours",
        "recent": "Résolus récemment",
        "none_current": "Aucun problème connu pour le moment.",
        "none_recent": "Aucun problème résolu ces 30 derniers jours.",
        "services": "Concerne",
        "matching": "Cela ressemble à un problème connu",
        "link": "Lier l'appel à ce problème",
        "linked": "Appel lié au problème connu",
        "ticket": "Référence du ticket (facultatif)",
        "internal": "interne",
        "deflect_question": "Est-ce votre problème ? Nous sommes déjà au courant et y travaillons.",
        "deflect_yes": "Oui, c'est mon problème : inutile de me contacter",
        "send_anyway": "Non, envoyer ma demande",
        "deflect_thanks": "Merci. Nous y travaillons ; suivez l'avancement sur la page d'état.",
    },
}


def ui(language):
    return UI.get(language, UI["en"])


def status_label(status, language):
    return STATUS_LABELS.get(language, STATUS_LABELS["en"]).get(status, status)
