"""Duplicate panel across languages: is a translation among the top 3 similar articles?

    .venv/bin/python bench/duplicate_panel.py [--prefix demo-]

For every live demo article that has a translation, the panel's own query
(`articles.similarity.similar_articles(title, issue, page=...)`, limit 3) run in the space
of each configured model (KB_COMPARISON_MODEL switched per row, on the dev database).
Goal: a translation in the top 3 for >= 90 % of them.
"""

import argparse
from collections import Counter

from _django import setup

setup()

from django.test import override_settings  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from articles.similarity import similar_articles  # noqa: E402
from embeddings.encoder import comparison_model_id, model_ids  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default="demo-")
    args = parser.parse_args()
    pages = list(
        SolutionArticlePage.objects.live()
        .filter(external_id__startswith=args.prefix)
        .select_related("locale")
    )
    per_key = Counter(p.translation_key for p in pages)
    with_translation = [p for p in pages if per_key[p.translation_key] > 1]
    print(
        f"{len(pages)} live articles, {len(with_translation)} with a translation; "
        f"comparison model today: {comparison_model_id()}\n"
    )
    print("| model | translation in top 3 | top 1 | by language of the article |")
    print("|---|---|---|---|")
    for model_id in model_ids():
        top3, top1, by_language = 0, 0, Counter()
        with override_settings(KB_COMPARISON_MODEL=model_id):
            for page in with_translation:
                found = similar_articles(page.title, page.issue, page=page, limit=3)
                hit = any(s.is_translation for s in found)
                top3 += hit
                top1 += bool(found) and found[0].is_translation
                by_language[(page.locale.language_code, hit)] += 1
        n = len(with_translation)
        languages = ", ".join(
            f"{lang} {by_language[(lang, True)]}/{by_language[(lang, True)] + by_language[(lang, False)]}"
            for lang in ("en", "nl", "fr")
        )
        print(f"| {model_id} | {100 * top3 / n:.1f} % | {100 * top1 / n:.1f} % | {languages} |")


if __name__ == "__main__":
    main()
