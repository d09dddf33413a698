"""What every visitor sees around the content: the tab title, the site icon, the admin avatar."""

import html as html_lib
import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def tab_title(html):
    return html_lib.unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip())


def test_home_page_tab_title_does_not_repeat_the_site_name(client):
    assert tab_title(client.get("/nl/").content.decode()) == "Kennisbank van de helpdesk"
    assert tab_title(client.get("/en/").content.decode()) == "Helpdesk knowledge base"


def test_article_tab_title_names_the_article_then_the_site(client, article):
    page = article("demo-printer-offline", "fr")
    title = tab_title(client.get(page.url).content.decode())
    assert title == f"{page.title} · Base de connaissances du helpdesk"


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    path = finders.find("favicon.ico")
    with open(path, "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon"' in client.get("/en/").content.decode()


def test_admin_avatar_is_served_from_this_site_so_the_csp_allows_it(admin):
    html = admin.get("/admin/").content.decode()
    avatars = re.findall(r'"avatarUrl": "([^"]+)"', html)  # the sidebar's account menu
    assert avatars, "no avatar on the admin dashboard"
    assert all(src.startswith("/static/") for src in avatars)
    assert "gravatar" not in html
