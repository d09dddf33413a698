"""Words a Dutch or French question shares with the articles it cannot match in its own
language (session 10, issue 13).

A Dutch or French question about an article that exists only in English is matched by the
multilingual model alone, which scores it a few hundredths below same-language articles on
neighbouring problems (docs/search-quality.md, "Session 10"). Many helpdesk questions still
carry English words: product and technical names ("laptop", "outlook", "vpn", "wifi",
"teams", "printer"). Those are a full-text signal for the English-only articles that the
full-text query in the question's language throws away (its stems and stop words are the
question's language's, and session 6's credit gives every such article the same score).

`shared_word_shift()` asks the full-text index once more, with the question's words read as
words of the articles' language (that language's stems), over those articles only, and turns
the result into a small shift of their dense score: the weight times (the article's score
divided by the best one) minus the mean of that share over the question's articles without
a version in its language. Centred, so the articles the question cannot read are reordered
among themselves by the words they share with it and not lifted as a class
(KB_CROSS_LANGUAGE_LIFT does that, and from 0.0075 up it breaks requirement tests).
"""

from . import lexical
from .stopwords import stem_prefixes


def shared_word_shift(terms, articles_qs, page_ids, weight, language="en", stems=False, k=50):
    """{page id: dense-score shift} for `page_ids` (the question's candidate articles without
    a version in its language) from the question's content words `terms` matched as words
    of `language` among the pages of `articles_qs` in that language (the caller's full-text
    scope): each article's share of the best such page's score, minus the mean share over
    `page_ids`, times `weight`. `stems`: also match `language`'s stems as prefixes."""
    page_ids = list(page_ids)
    if not weight or not terms or not page_ids:
        return {}
    scope = articles_qs.filter(locale__language_code=language)
    prefixes = stem_prefixes(terms, language) if stems else ()
    found = lexical.ranked_pages(terms, scope, k, prefixes)
    if not found:
        return {}
    top = max(found.values())
    if top <= 0:
        return {}
    share = {pid: found.get(pid, 0.0) / top for pid in page_ids}
    mean = sum(share.values()) / len(share)
    return {pid: weight * (value - mean) for pid, value in share.items()}
