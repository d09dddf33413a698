"""Locust users for bench/load_test.py: operators searching, customers searching and reading."""

import random
import re

from locust import HttpUser, between, task

OPERATOR_QUERIES = [
    "printer offline",
    "vpn certificate expired",
    "wachtwoord vergeten",
    "carte sim bloquée puk",
    "outlook does not sync",
    "factuur te hoog",
    "roaming abroad data",
    "laptop will not boot",
    "wifi thuis zwak",
    "double facture",
    "mailbox full",
    "esim activeren",
]
PUBLIC_QUERIES = [
    "printer",
    "vpn",
    "wachtwoord",
    "facture",
    "wifi",
    "roaming",
    "sim puk",
    "docking station",
]


class Operator(HttpUser):
    """A logged-in operator typing a query while the customer talks (a few keystrokes apart)."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self):
        page = self.client.get("/accounts/login/", name="login form")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        self.client.post(
            "/accounts/login/",
            {
                "username": "operator",
                "password": "operator-demo",
                "csrfmiddlewaretoken": token,
                "next": "/operator/",
            },
            name="login",
        )

    @task
    def search_while_typing(self):
        query = random.choice(OPERATOR_QUERIES)
        for cut in (len(query) // 2, len(query)):
            self.client.get(
                "/api/v1/search/",
                params={"q": query[:cut], "locale": "en", "limit": 8},
                name="operator search API",
            )


class Customer(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    @task(2)
    def public_search(self):
        self.client.get(
            "/api/v1/public/search/",
            params={"q": random.choice(PUBLIC_QUERIES), "locale": "nl"},
            name="public search API",
        )

    @task(1)
    def read_article(self):
        self.client.get(
            "/en/printers-hardware/office-printer-shows-as-offline/", name="article page"
        )
