"""Demo service catalogue, categories and users (development passwords are documented in the README)."""

TEAMS = [
    {
        "slug": "l2-workplace",
        "name": "Second line – Workplace",
        "queue": "L2-WORKPLACE",
        "contact": "l2-workplace@example.be / +32 2 555 01 10",
        "hours": "Mon–Fri 08:00–18:00",
    },
    {
        "slug": "network-operations",
        "name": "Network Operations Centre",
        "queue": "NOC",
        "contact": "noc@example.be / +32 2 555 01 20",
        "hours": "24/7",
    },
    {
        "slug": "billing-contracts",
        "name": "Billing and Contracts",
        "queue": "BILLING",
        "contact": "billing@example.be / +32 2 555 01 30",
        "hours": "Mon–Fri 09:00–17:00",
    },
]

# slug: (team, category, {locale: (name, description)})
SERVICES = {
    "workplace-accounts": (
        "l2-workplace",
        "Workplace",
        {
            "en": ("Accounts and passwords", "Logins, passwords, multi-factor authentication."),
            "nl": ("Accounts en wachtwoorden", "Aanmelden, wachtwoorden, tweestapsverificatie."),
            "fr": (
                "Comptes et mots de passe",
                "Connexions, mots de passe, authentification à deux facteurs.",
            ),
        },
    ),
    "vpn-remote-access": (
        "network-operations",
        "Network",
        {
            "en": ("VPN and remote access", "Working from home through the company VPN."),
            "nl": ("VPN en toegang op afstand", "Thuiswerken via de bedrijfs-VPN."),
            "fr": ("VPN et accès à distance", "Télétravail via le VPN de l'entreprise."),
        },
    ),
    "email-collaboration": (
        "l2-workplace",
        "Workplace",
        {
            "en": ("E-mail and collaboration", "Mailboxes, calendars, shared mailboxes."),
            "nl": ("E-mail en samenwerking", "Mailboxen, agenda's, gedeelde mailboxen."),
            "fr": ("E-mail et collaboration", "Boîtes mail, agendas, boîtes partagées."),
        },
    ),
    "printing": (
        "l2-workplace",
        "Workplace",
        {
            "en": ("Printing and scanning", "Office printers, scan to e-mail."),
            "nl": ("Printen en scannen", "Kantoorprinters, scannen naar e-mail."),
            "fr": ("Impression et numérisation", "Imprimantes du bureau, scan vers e-mail."),
        },
    ),
    "wifi-network": (
        "network-operations",
        "Network",
        {
            "en": ("Wi-Fi and network", "Office and home Wi-Fi, guest network."),
            "nl": ("Wifi en netwerk", "Wifi op kantoor en thuis, gastennetwerk."),
            "fr": ("Wi-Fi et réseau", "Wi-Fi au bureau et à domicile, réseau invité."),
        },
    ),
    "billing-invoices": (
        "billing-contracts",
        "Billing",
        {
            "en": (
                "Invoices and payments",
                "Invoices, direct debit, payment reminders, contracts.",
            ),
            "nl": ("Facturen en betalingen", "Facturen, domiciliëring, herinneringen, contracten."),
            "fr": ("Factures et paiements", "Factures, domiciliation, rappels, contrats."),
        },
    ),
    "mobile-telecom": (
        "network-operations",
        "Telecom",
        {
            "en": (
                "Mobile and telecom",
                "Mobile subscriptions, SIM cards, roaming, number porting.",
            ),
            "nl": ("Mobiel en telecom", "Gsm-abonnementen, simkaarten, roaming, nummeroverdracht."),
            "fr": (
                "Mobile et télécom",
                "Abonnements mobiles, cartes SIM, roaming, portage du numéro.",
            ),
        },
    ),
    "laptops-hardware": (
        "l2-workplace",
        "Workplace",
        {
            "en": ("Laptops and hardware", "Company laptops, docking stations, warranty repairs."),
            "nl": (
                "Laptops en hardware",
                "Bedrijfslaptops, dockingstations, herstellingen onder garantie.",
            ),
            "fr": (
                "Ordinateurs portables et matériel",
                "Portables, stations d'accueil, réparations sous garantie.",
            ),
        },
    ),
}

# code: (name, rank, hours, covered service slugs, exclusions, {priority: (response min, resolution min)})
SERVICE_LEVELS = {
    "basic": (
        "Basic",
        1,
        "Mon–Fri 09:00–17:00",
        ["workplace-accounts", "email-collaboration", "billing-invoices"],
        "No on-site visits. Hardware, VPN, Wi-Fi and mobile are not covered.",
        {"P1": (240, 1440), "P2": (480, 2880), "P3": (960, 5760), "P4": (1440, 10080)},
    ),
    "standard": (
        "Standard",
        2,
        "Mon–Fri 08:00–18:00",
        [
            "workplace-accounts",
            "email-collaboration",
            "billing-invoices",
            "printing",
            "wifi-network",
            "vpn-remote-access",
        ],
        "Laptop repairs and mobile subscriptions are not covered.",
        {"P1": (60, 480), "P2": (120, 960), "P3": (480, 2880), "P4": (960, 5760)},
    ),
    "premium": (
        "Premium",
        3,
        "24/7",
        list(SERVICES),
        "",
        {"P1": (15, 240), "P2": (30, 480), "P3": (120, 1440), "P4": (480, 2880)},
    ),
}

CATEGORIES = {
    "accounts-passwords": {
        "en": "Accounts and passwords",
        "nl": "Accounts en wachtwoorden",
        "fr": "Comptes et mots de passe",
    },
    "network-vpn-wifi": {
        "en": "Network, VPN and Wi-Fi",
        "nl": "Netwerk, VPN en wifi",
        "fr": "Réseau, VPN et Wi-Fi",
    },
    "email-collaboration": {
        "en": "E-mail and calendar",
        "nl": "E-mail en agenda",
        "fr": "E-mail et agenda",
    },
    "printers-hardware": {
        "en": "Printers and hardware",
        "nl": "Printers en hardware",
        "fr": "Imprimantes et matériel",
    },
    "billing-contracts": {
        "en": "Invoices and contracts",
        "nl": "Facturen en contracten",
        "fr": "Factures et contrats",
    },
    "mobile-telecom": {
        "en": "Mobile and telecom",
        "nl": "Mobiel en telecom",
        "fr": "Mobile et télécom",
    },
}

# The one-line summary under each category's title (CategoryPage.intro), per language.
CATEGORY_INTROS = {
    "accounts-passwords": {
        "en": "Sign-in problems, forgotten or expired passwords, blocked accounts and MFA.",
        "nl": "Aanmeldproblemen, vergeten of verlopen wachtwoorden, geblokkeerde accounts en MFA.",
        "fr": "Problèmes de connexion, mots de passe oubliés ou expirés, comptes bloqués et MFA.",
    },
    "network-vpn-wifi": {
        "en": "No connection at the office or at home: Wi-Fi, VPN and the network.",
        "nl": "Geen verbinding op kantoor of thuis: wifi, VPN en het netwerk.",
        "fr": "Pas de connexion au bureau ou à la maison : Wi-Fi, VPN et réseau.",
    },
    "email-collaboration": {
        "en": "Outlook, shared mailboxes, calendars and Teams.",
        "nl": "Outlook, gedeelde mailboxen, agenda's en Teams.",
        "fr": "Outlook, boîtes partagées, agendas et Teams.",
    },
    "printers-hardware": {
        "en": "Printers, laptops, screens and other devices.",
        "nl": "Printers, laptops, schermen en andere toestellen.",
        "fr": "Imprimantes, portables, écrans et autres appareils.",
    },
    "billing-contracts": {
        "en": "Invoices, payments, refunds and your contract.",
        "nl": "Facturen, betalingen, terugbetalingen en uw contract.",
        "fr": "Factures, paiements, remboursements et votre contrat.",
    },
    "mobile-telecom": {
        "en": "SIM cards, PUK codes, mobile signal and number porting.",
        "nl": "Simkaarten, PUK-codes, mobiel bereik en nummeroverdracht.",
        "fr": "Cartes SIM, codes PUK, réseau mobile et portabilité du numéro.",
    },
}

# username: (password, group or None for superuser, first name)
USERS = {
    "operator": ("operator-demo", "Operators", "Olivia"),
    "secondline": ("secondline-demo", "Second line", "Sam"),
    "manager": ("manager-demo", "Knowledge managers", "Kim"),
    "admin": ("admin-demo", None, "Ada"),
}
