"""Lexical retrieval: one ranked query over the full-text index Wagtail's database backend keeps.

Wagtail's database search backend maintains the index (`wagtailsearch_indexentry`, plus the
FTS5 table on SQLite, tsvector columns on PostgreSQL) whenever a page is published. Its
`.search()` reads that index well but slowly for our purpose: on SQLite it filters the pages
with `pk IN (matching entries)` and then scores every result with a correlated FTS5
subquery (the MATCH runs once more per candidate page), and it materialises whole page
objects when we only need (page id, score).

`ranked_pages()` asks the same index the same question in one statement: the same full-text
expression and the same score as Wagtail's query (SQLite: bm25 of the FTS5 row × (title
norm + 1); PostgreSQL: ts_rank of the title vector × title norm + ts_rank of the body vector,
with the backend's weights), restricted to the entries of the candidate pages, best first.
For any other backend or database it returns None and the caller uses `.search()`.
"""

from django.db import connections, router
from django.db.models import CharField, F, IntegerField
from django.db.models.functions import Cast
from wagtail.search.backends import get_search_backend

SQLITE, POSTGRES = "sqlite", "postgresql"


def _index_model(name="IndexEntry"):
    """A model of the app that holds Wagtail's search index ("wagtailsearch")."""
    # Only after app loading: the search-index app config exists once the registry is ready.
    from modelsearch.conf import get_app_config

    return get_app_config().get_model(name)


def recognised_backend(queryset):
    """(kind, backend) when the default search backend is one we can query directly, else
    (None, backend). The candidate pages must live in the same database as the index."""
    backend = get_search_backend()
    alias = router.db_for_read(_index_model())
    if queryset.db != alias:
        return None, backend
    vendor = connections[alias].vendor
    if vendor == SQLITE:  # Wagtail picks its FTS5 backend only when FTS5 is available
        # Backend modules import their database driver: load only the one in use.
        from modelsearch.backends.database.sqlite.sqlite import SQLiteSearchBackend

        if isinstance(backend, SQLiteSearchBackend):
            return SQLITE, backend
    elif vendor == POSTGRES:
        # Backend modules import their database driver: load only the one in use.
        from modelsearch.backends.database.postgres.postgres import PostgresSearchBackend

        if isinstance(backend, PostgresSearchBackend):
            return POSTGRES, backend
    return None, backend


def _object_ids(queryset):
    """The candidate pages' primary keys as text, the type of the index's object_id column."""
    return (
        queryset.order_by().annotate(_kb_object_id=Cast("pk", CharField())).values("_kb_object_id")
    )


def ranked_pages(terms, queryset, k, prefixes=()):
    """{page id: score magnitude} for up to k pages of `queryset` matching any of `terms`
    or any word starting with one of `prefixes` (words only: no quotes or operators), best
    first; None when the backend is unknown."""
    kind, backend = recognised_backend(queryset)
    if kind is None or not terms:
        return None
    # Only after app loading, like the index model above.
    from modelsearch.utils import get_descendants_content_types_pks

    content_types = get_descendants_content_types_pks(queryset.model)
    if kind == SQLITE:
        rows = _sqlite(terms, queryset, content_types, k, prefixes)
    else:
        rows = _postgres(terms, queryset, content_types, k, backend.config, prefixes)
    # SQLite's bm25() is negative (lower is better), PostgreSQL's rank positive: use magnitude.
    return {int(object_id): abs(float(score or 0.0)) for object_id, score in rows}


def _sqlite(terms, queryset, content_types, k, prefixes=()):
    entry = _index_model()._meta.db_table
    fts = _index_model("SQLiteFTSIndexEntry")._meta.db_table
    # The MATCH string Wagtail builds for PlainText(operator="or") over title and body: each
    # term a quoted FTS5 string (a `"` inside is doubled), so nothing in it is query syntax;
    # a prefix is a quoted string followed by FTS5's prefix marker.
    quoted = ['"{}"'.format(t.replace('"', '""')) for t in terms]
    quoted += ['"{}" *'.format(p.replace('"', '""')) for p in prefixes]
    phrases = " OR ".join(quoted)
    match = f"{{title body}} : ({phrases})"
    scope_sql, scope_params = _object_ids(queryset).query.sql_with_params()
    placeholders = ", ".join(["%s"] * len(content_types))
    # bm25(title) * title_norm + bm25(body) * 1.0 in Wagtail's expression, where both bm25
    # calls are the row's single FTS5 score.
    sql = (
        f'SELECT e."object_id", bm25("{fts}") * e."title_norm" + bm25("{fts}") AS score '
        f'FROM "{fts}" JOIN "{entry}" e ON e."id" = "{fts}"."rowid" '
        f'WHERE "{fts}" MATCH %s AND e."content_type_id" IN ({placeholders}) '
        f'AND e."object_id" IN ({scope_sql}) '
        f'ORDER BY score ASC, CAST(e."object_id" AS INTEGER) DESC LIMIT %s'
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [match, *content_types, *scope_params, int(k)])
        return cursor.fetchall()


def _postgres(terms, queryset, content_types, k, config, prefixes=()):
    # PostgreSQL only: these modules need psycopg, which SQLite installs may lack.
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
    from django.db.models.expressions import CombinedExpression
    from modelsearch.backends.database.postgres.weights import get_sql_weights

    entry_model = _index_model()

    # The raw tsquery Wagtail builds for PlainText(operator="or"): quoted lexemes joined by |.
    def quote(text):
        return "'{}'".format(text.replace("'", "''").replace("\\", "\\\\"))

    lexemes = " | ".join([quote(t) for t in terms] + [quote(p) + ":*" for p in prefixes])
    tsquery = SearchQuery(lexemes, search_type="raw", config=config)
    weights = get_sql_weights()
    score = SearchRank(F("title"), tsquery, weights=weights) * F("title_norm") + SearchRank(
        F("body"), tsquery, weights=weights
    )
    vector = CombinedExpression(F("title"), "||", F("body"), output_field=SearchVectorField())
    return list(
        entry_model._default_manager.using(queryset.db)
        .filter(content_type_id__in=content_types, object_id__in=_object_ids(queryset))
        .annotate(_kb_vector=vector)
        .filter(_kb_vector=tsquery)
        .annotate(_kb_score=score)
        .order_by(F("_kb_score").desc(), Cast("object_id", IntegerField()).desc())
        .values_list("object_id", "_kb_score")[:k]
    )
