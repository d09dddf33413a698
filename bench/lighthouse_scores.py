"""Lighthouse (mobile profile, Debian's Chromium) on the public home, search and article pages.

    mkdir -p var/lighthouse && (cd var/lighthouse && npm i -E lighthouse@12.2.3)
    python bench/lighthouse_scores.py --base-url http://127.0.0.1:8047 [--runs 3]

Point it at a running server with the demo data (`make demo`, then gunicorn with the
production settings, as in docs/accessibility.md). The article is the first result of the
search, so the three pages are the ones a customer walks through. Lighthouse's default
form factor is mobile (Moto G power, slow 4G, 4x CPU slowdown); each page is measured
--runs times and the median score printed. Goals (issue 18): accessibility >= 95 and
performance >= 90.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "var" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run"


def first_article(base_url, search_path):
    html = urllib.request.urlopen(base_url + search_path, timeout=60).read().decode()
    match = re.search(r'class="result-title"><a href="([^"#]+)', html)
    if not match:
        sys.exit(f"no search result on {search_path}: is the demo data loaded?")
    return match.group(1)


def lighthouse(url, lighthouse_bin):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        subprocess.run(
            [
                str(lighthouse_bin),
                url,
                "--only-categories=accessibility,performance",
                "--output=json",
                f"--output-path={out}",
                f"--chrome-flags={CHROME_FLAGS}",
                "--quiet",
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", CHROMIUM)},
        )
        report = json.loads(out.read_text())
    categories = report["categories"]
    return (
        round(categories["accessibility"]["score"] * 100),
        round(categories["performance"]["score"] * 100),
        report["configSettings"]["formFactor"],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8047")
    parser.add_argument("--language", default="en")
    parser.add_argument("--query", default="printer offline")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lighthouse", default=str(LIGHTHOUSE))
    args = parser.parse_args()

    base = args.base_url.rstrip("/")
    search = f"/{args.language}/search/?q={urllib.request.quote(args.query)}"
    pages = [("home", f"/{args.language}/"), ("search", search)]
    pages.append(("article", first_article(base, search)))

    print(f"Lighthouse 12.2.3, {CHROMIUM}, median of {args.runs} runs per page")
    print(f"{'page':<8} {'form factor':<12} {'accessibility':>13} {'performance':>12}  path")
    for name, path in pages:
        scores = [lighthouse(base + path, args.lighthouse) for _ in range(args.runs)]
        a11y = statistics.median(s[0] for s in scores)
        perf = statistics.median(s[1] for s in scores)
        print(f"{name:<8} {scores[0][2]:<12} {a11y:>13g} {perf:>12g}  {path}")


if __name__ == "__main__":
    main()
