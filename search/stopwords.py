"""Function words removed from lexical queries (in an OR query they match nearly every
article), and word stems so that "imprimer" also finds "imprimante"."""

import functools
import unicodedata

import Stemmer  # PyStemmer: the Snowball stemmers, as used by Lucene, PostgreSQL and bm25s

STOPWORDS = {
    "en": set(
        """a an the and or but if of to in on at by for with from into onto about as is are was were be been
        being am do does did done have has had i me my mine you your yours he him his she her it its we us our they
        them their this that these those there here what which who whom whose when where why how can could should
        would will shall may might must not no nor so too very just also still yet again any some all each every
        other than then up down out off over under after before since until while because anymore get got getting
        please help hi hello thanks thank im ive dont doesnt cant cannot wont isnt""".split()
    ),
    "nl": set(
        """de het een en of maar als dan dat die dit deze daar hier wat wie welk welke waar waarom hoe wanneer
        ik mij me mijn jij je jou jouw u uw hij hem zijn zij ze haar het wij we ons onze jullie hun hen er is ben
        bent zijn was waren word wordt worden werd heb hebt heeft hebben had kan kun kunt kunnen kon zal zullen zou
        moet moeten mag mogen wil willen doe doet doen niet geen nog al ook wel maar zo te van in op aan met voor
        door naar om uit bij over onder tot sinds toen na tegen zonder meer veel alle iets niets hallo dag graag
        dank bedankt even gewoon toch nu""".split()
    ),
    "fr": set(
        """le la les l un une des du de d et ou mais si donc car ni que qu qui quoi dont où quand comment
        pourquoi je j me m moi mon ma mes tu te t toi ton ta tes il elle on nous vous ils elles lui leur leurs se s
        son sa ses notre nos votre vos ce c cet cette ces ça cela y en est suis es sont était étaient être ai as a
        avons avez ont avait avoir fait faire peux peut pouvons pouvez peuvent dois doit veux veut ne n pas plus
        jamais rien au aux dans sur sous avec sans pour par chez entre vers depuis pendant avant après très trop
        aussi encore déjà bonjour merci svp stp bien à là été même""".split()
    ),
}


def fold(word):
    """Lower case without accents: "Déjà" -> "deja". Callers often type French and Dutch
    without them; the full-text index ignores them too (SQLite FTS5's default tokenizer)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_FOLDED = {locale: {fold(w) for w in words} for locale, words in STOPWORDS.items()}


def _is_stop(term, locale):
    word = term.lower()
    if word in STOPWORDS.get(locale, ()) or word in STOPWORDS["en"]:
        return True
    # Typed without accents ("ca", "deja", "apres"): compare with the stop words' folded
    # forms. A word typed with accents is taken as written ("thé" is not "the").
    return fold(word) == word and (word in _FOLDED.get(locale, ()) or word in _FOLDED["en"])


def content_terms(terms, locale):
    """Drop stop words of the query's language (and English), also when typed without
    accents; keep everything if nothing is left."""
    kept = [t for t in terms if not _is_stop(t, locale)]
    return kept or terms


_STEMMER_LANGUAGES = {"en": "english", "nl": "dutch", "fr": "french"}
MIN_STEM = 4  # shorter stems match too many words as a prefix


@functools.cache
def _stemmer(locale):
    language = _STEMMER_LANGUAGES.get(locale)
    return Stemmer.Stemmer(language) if language else None


def stem_prefixes(terms, locale):
    """Stems of the query's words (Snowball, the query's language) to match as word
    prefixes: "imprimer" -> "imprim" (imprimante, imprimé), "vergaderingen" -> "vergader".
    Only stems of at least MIN_STEM letters that differ from the word; none for a language
    without a stemmer."""
    stemmer = _stemmer(locale)
    if stemmer is None:
        return []
    seen, prefixes = {t.lower() for t in terms}, []
    for term in terms:
        stem = stemmer.stemWord(term.lower())
        if len(stem) >= MIN_STEM and stem not in seen:
            seen.add(stem)
            prefixes.append(stem)
    return prefixes
