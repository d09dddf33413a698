"""Before/after screenshots of the operator and customer screens (issue 18).

    python bench/before_after_screenshots.py [--before 61601c0] [--pages home,search,...]

Builds two demo sites side by side: the commit before the help-centre work (`--before`,
default 61601c0, the last commit before issue 18 was worked on) extracted with `git archive`,
and this working tree. Each gets its own fresh database and vector index under a temporary
KB_VAR_DIR (migrate, load_initial_data, rebuild_vector_index, the same as `make demo` minus
the event month), is served by `manage.py runserver --noreload` on 127.0.0.1, and Debian's
Chromium (Playwright) takes the same pages at desktop (1280 px) and phone (390 px) width:
`test-artifacts/before-NAME-WIDTH.png` and `test-artifacts/after-NAME-WIDTH.png`.

Only 127.0.0.1 is used; the servers are stopped at the end, the temporary trees removed.
Takes ~6-10 minutes on 2 cores (two demo builds with both embedding models).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
OPERATOR = ("operator", "operator-demo")
CONSOLE_QUESTION = "mijn wifi valt steeds weg op kantoor"
PUBLIC_QUESTION = "mijn wifi valt steeds weg"
NONSENSE_FR = "zxqv blorf wug"


def _env(var_dir):
    env = dict(os.environ)
    env.update(
        KB_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="kbsite.settings.dev",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        KB_TASK_BACKEND="immediate",
        OMP_NUM_THREADS="1",
    )
    env.pop("KB_DATABASE_URL", None)
    env.pop("KB_VECTOR_INDEX_DIR", None)
    return env


def build_site(tree, var_dir):
    env = _env(var_dir)
    for command in (["migrate", "--no-input"], ["load_initial_data"], ["rebuild_vector_index"]):
        print(f"  {tree.name}: manage.py {' '.join(command)}", flush=True)
        done = subprocess.run(
            [PY, "manage.py", *command], cwd=tree, env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(f"{tree.name}: manage.py {command[0]} failed:\n{done.stderr[-3000:]}")


def serve(tree, var_dir, port):
    server = subprocess.Popen(
        [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=tree,
        env=_env(var_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/en/", timeout=5)
            return server
        except Exception:
            time.sleep(1)
    server.terminate()
    raise SystemExit(f"the {tree.name} site did not answer on 127.0.0.1:{port}")


def _console(page):
    page.goto("/admin/login/?next=/operator/")
    page.fill("#id_username", OPERATOR[0])
    page.fill("#id_password", OPERATOR[1])
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url("**/operator/**")
    page.locator("#q").fill(CONSOLE_QUESTION)
    page.wait_for_selector("#results .hit", timeout=30_000)
    page.wait_for_timeout(600)
    page.locator("#q").press("Enter")
    page.wait_for_timeout(1500)


def _goto(url):
    def visit(page):
        page.goto(url)
        page.wait_for_load_state("networkidle")

    return visit


def _public_typing(page):
    page.goto("/fr/search/")
    box = page.locator("input[name=q]").first
    box.type(NONSENSE_FR, delay=40)
    page.wait_for_timeout(2000)


PAGES = {
    "console": _console,
    "home-nl": _goto("/nl/"),
    "category-nl": _goto("/nl/network-vpn-wifi/"),
    "search-nl": _goto(f"/nl/search/?q={urllib.request.quote(PUBLIC_QUESTION)}"),
    "search-typing-nonsense-fr": _public_typing,
    "article-nl": _goto("/nl/network-vpn-wifi/"),  # replaced by the first article link below
    "contact-nl": _goto("/nl/contact/"),
}


def _first_article_url(page):
    page.goto("/nl/network-vpn-wifi/")
    links = page.locator("main a[href^='/nl/network-vpn-wifi/']")
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        if href and href.rstrip("/") != "/nl/network-vpn-wifi":
            return href
    return "/nl/network-vpn-wifi/"


def shoot(browser, label, port, names):
    for width_name, (width, height) in WIDTHS.items():
        context = browser.new_context(
            base_url=f"http://127.0.0.1:{port}", viewport={"width": width, "height": height}
        )
        page = context.new_page()
        for name in names:
            action = PAGES[name]
            if name == "article-nl":
                action = _goto(_first_article_url(page))
            try:
                action(page)
            except Exception as error:  # a screen the old code does not have still gets a shot
                print(
                    f"  {label} {name} {width_name}: {type(error).__name__}: {error}".split("\n")[0]
                )
            path = ARTIFACTS / f"{label}-{name}-{width_name}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"  {path.relative_to(ROOT)}", flush=True)
        context.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="61601c0")
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args()
    names = [n for n in args.pages.split(",") if n]
    unknown = [n for n in names if n not in PAGES]
    if unknown:
        raise SystemExit(f"unknown page(s) {unknown}; choose from {', '.join(PAGES)}")
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    ARTIFACTS.mkdir(exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="kb-before-after-"))
    servers = []
    try:
        before = work / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.before], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        sites = [
            ("before", before, work / "var-before", 8031),
            ("after", ROOT, work / "var-after", 8032),
        ]
        for label, tree, var_dir, _port in sites:
            print(f"building the {label} site ({tree})", flush=True)
            build_site(tree, var_dir)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
            for label, tree, var_dir, port in sites:
                server = serve(tree, var_dir, port)
                servers.append(server)
                print(f"screenshots of the {label} site", flush=True)
                shoot(browser, label, port, names)
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
            browser.close()
    finally:
        for server in servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
