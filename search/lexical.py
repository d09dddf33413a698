"""Lexical retrieval: one ranked query over the full-text index Wagtail's database backend keeps.

Wagtail's database search backend maintains the index (`wagtailsearch_indexentry`, plus the
FTS5 table on SQLite, tsvector columns on PostgreSQL) whenever a page is published. Its
`.search()` reads that index well but slowly for our purpose: on SQLite it filters the pages
with `pk IN (matching entries)` and then scores every result with a correlated FTS5
subquery (the MATCH runs once more per candidate page), and it materialises whole page
objects when we only need (page id, score).

`ranked_pages()` asks the same index the same question in one statement, restricted to the
entries of the candidate pages, best first. SQLite: the same full-text expression and the
same score as Wagtail's query (bm25 of the FTS5 row × (title norm + 1)). PostgreSQL: the same
pages match, but Wagtail's ts_rank has no word rarity, so each word's rank is weighted by
its BM25 idf (`_postgres`), which makes the two backends rank alike.
For any other backend or database it returns None and the caller uses `.search()`.

A scope marked with `same_statement()` (the search's own candidate sets, whose SQL does not
depend on the data) gets its whole statement written once per database connection wrapper
and statement shape (_rows, dbutils/prepared.py): compiling the scope subquery through the
ORM on every search cost more CPU than some of the statements themselves
(bench/request_cpu.py).
"""

from django.db import connections, router
from django.db.models import CharField
from django.db.models.functions import Cast
from wagtail.search.backends import get_search_backend

from dbutils.prepared import PreparedStatement, kept

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


# The queryset attribute same_statement() sets (a clone, .filter() etc., does not keep it).
_SCOPE_KEY = "_kb_lexical_scope"


def same_statement(queryset, key):
    """Mark `queryset` as a scope whose SQL is the same for every search with this `key`
    (no ids or other values from the data in it): ranked_pages() then writes its statement
    once per process instead of compiling the scope on every search. Returns the queryset."""
    setattr(queryset, _SCOPE_KEY, (queryset.model._meta.label, key))
    return queryset


def _rows(kind, queryset, shape, write, before, after):
    """The rows of the `kind` statement of `shape` over `queryset`'s pages, run with the
    parameters `before`, the content type ids, the scope's parameters, then `after`. The
    statement is written by write(quote_name, content_types, scope_sql) once per connection
    wrapper and number of content types when the scope is marked (same_statement), else on
    every call. The content type ids are looked up on every call (Django's ContentType
    cache): only the SQL and the scope's own parameters are kept."""
    # Only after app loading, like the index model above.
    from modelsearch.utils import get_descendants_content_types_pks

    content_types = get_descendants_content_types_pks(queryset.model)
    args = (queryset, write, content_types, len(before), len(after))
    key = getattr(queryset, _SCOPE_KEY, None)
    if key is None:
        statement = _write(*args)
    else:
        key = (kind, key, shape, len(content_types), len(before), len(after))
        statement = kept(queryset.db, "_kb_lexical_statements", key, _write, *args)
    return statement.rows([*before, *content_types, *after])


def _write(queryset, write, content_types, before, after):
    """The statement with the scope compiled and its parameters in place; the values of a
    call (`before` of them, the content types, `after` of them) go around them."""
    compiler = _object_ids(queryset).query.get_compiler(using=queryset.db)
    scope_sql, scope_params = compiler.as_sql()
    qn = connections[queryset.db].ops.quote_name
    lead = before + len(content_types)
    params = (None,) * lead + tuple(scope_params) + (None,) * after
    return PreparedStatement(
        write(qn, content_types, scope_sql),
        alias=queryset.db,
        params=params,
        positions=(*range(lead), *range(len(params) - after, len(params))),
    )


def _object_ids(queryset):
    """The candidate pages' primary keys as text, the type of the index's object_id column."""
    return (
        queryset.order_by().annotate(_kb_object_id=Cast("pk", CharField())).values("_kb_object_id")
    )


def ranked_pages(terms, queryset, k, prefixes=(), *, idf=None, field_weights=None):
    """{page id: score magnitude} for up to k pages of `queryset` matching any of `terms`
    or any word starting with one of `prefixes` (words only: no quotes or operators), best
    first; None when the backend is unknown.

    PostgreSQL only, for comparisons (bench/postgres_lexical.py): idf and field_weights
    ("wagtail" or "uniform") override POSTGRES_IDF and POSTGRES_FIELD_WEIGHTS; idf=False with
    field_weights="wagtail" orders pages as Wagtail's ts_rank did before session 8."""
    kind, backend = recognised_backend(queryset)
    if kind is None or not terms:
        return None
    if kind == SQLITE:
        rows = _sqlite(terms, queryset, k, prefixes)
    else:
        rows = _postgres(
            terms,
            queryset,
            k,
            backend.config,
            prefixes,
            idf=POSTGRES_IDF if idf is None else idf,
            field_weights=field_weights or POSTGRES_FIELD_WEIGHTS,
        )
    # SQLite's bm25() is negative (lower is better), PostgreSQL's rank positive: use magnitude.
    return {int(object_id): abs(float(score or 0.0)) for object_id, score in rows}


def _sqlite(terms, queryset, k, prefixes=()):
    # The MATCH string Wagtail builds for PlainText(operator="or") over title and body: each
    # term a quoted FTS5 string (a `"` inside is doubled), so nothing in it is query syntax;
    # a prefix is a quoted string followed by FTS5's prefix marker.
    quoted = ['"{}"'.format(t.replace('"', '""')) for t in terms]
    quoted += ['"{}" *'.format(p.replace('"', '""')) for p in prefixes]
    phrases = " OR ".join(quoted)
    match = f"{{title body}} : ({phrases})"
    return _rows(SQLITE, queryset, (), _sqlite_sql, [match], [int(k)])


def _sqlite_sql(qn, content_types, scope_sql):
    entry = qn(_index_model()._meta.db_table)
    fts = qn(_index_model("SQLiteFTSIndexEntry")._meta.db_table)
    placeholders = ", ".join(["%s"] * len(content_types))
    # bm25(title) * title_norm + bm25(body) * 1.0 in Wagtail's expression, where both bm25
    # calls are the row's single FTS5 score.
    return (
        f'SELECT e."object_id", bm25({fts}) * e."title_norm" + bm25({fts}) AS score '
        f'FROM {fts} JOIN {entry} e ON e."id" = {fts}."rowid" '
        f'WHERE {fts} MATCH %s AND e."content_type_id" IN ({placeholders}) '
        f'AND e."object_id" IN ({scope_sql}) '
        f'ORDER BY score ASC, CAST(e."object_id" AS INTEGER) DESC LIMIT %s'
    )


# The field weights of PostgreSQL's per-word rank: "wagtail" (the D, C, B, A weights Wagtail
# derives from the search fields' boosts: an article's issue A, its cause and resolution D,
# about 1 % of A) or "uniform" (every field alike, as SQLite's bm25() counts them). Uniform,
# chosen on the demo gold's tune half (bench/postgres_lexical.py --hybrid, tune_search): with
# Wagtail's weights a word in the resolution hardly counts, and the idf cannot lift it.
POSTGRES_FIELD_WEIGHTS = "uniform"
# Each word's rank weighted by its BM25 idf (False: every word alike, Wagtail's ts_rank order).
POSTGRES_IDF = True
UNIFORM_WEIGHTS = "{1,1,1,1}"


def _postgres(terms, queryset, k, config, prefixes=(), idf=True, field_weights="uniform"):
    """BM25-style ranking over Wagtail's PostgreSQL index: each query word's own ts_rank,
    weighted by the word's inverse document frequency.

    Hand-written because neither PostgreSQL nor Wagtail offers a rank with word rarity:
    `ts_rank` and `ts_rank_cd` score a document from its own vector alone (an OR query's
    ts_rank is the mean of its words' ranks), and BM25 needs extensions (ParadeDB's
    pg_search, VectorChord-bm25) that a stock server does not have. Wagtail's score,
    ts_rank(title) × title_norm + ts_rank(body), is kept word by word (ts_rank's saturating
    term frequency, the title boost), with every field weighted alike by default, as FTS5
    counts them (POSTGRES_FIELD_WEIGHTS); each word's part is multiplied by the idf SQLite's
    FTS5 bm25() uses, max(ln((N − n + 0.5) / (n + 0.5)), 1e-6), N the candidate pages' index
    entries (FTS5: the whole table) and n those the word matches. Without it, "arrive", in
    many French articles, outweighed "imprimer", which names the problem
    (docs/search-quality.md, "PostgreSQL"). One statement: the counts come from the same
    scan as the matches.
    """
    # PostgreSQL only: this module needs psycopg, which SQLite installs may lack.
    from modelsearch.backends.database.postgres.weights import get_sql_weights

    # Each operand as Wagtail writes it for PlainText: a quoted lexeme (a prefix gets :*),
    # so nothing in it is tsquery syntax; one tsquery per operand instead of their OR.
    def quote(text):
        return "'{}'".format(text.replace("'", "''").replace("\\", "\\\\"))

    operands = [quote(t) for t in terms] + [quote(p) + ":*" for p in prefixes]
    shape = (bool(config), bool(idf))
    weights = get_sql_weights() if field_weights == "wagtail" else UNIFORM_WEIGHTS
    before = [config] if config else []
    return _rows(
        POSTGRES,
        queryset,
        shape,
        lambda qn, content_types, scope_sql: _postgres_sql(
            qn, content_types, scope_sql, config=config, idf=idf
        ),
        [*before, operands],
        [weights, weights, int(k)],
    )


def _postgres_sql(qn, content_types, scope_sql, *, config, idf):
    entry = qn(_index_model()._meta.db_table)
    placeholders = ", ".join(["%s"] * len(content_types))
    # The index's own configuration (SEARCH_CONFIG; unset: the server's default).
    to_tsquery = "to_tsquery(%s::regconfig, u.operand)" if config else "to_tsquery(u.operand)"
    # idf=False: every word weighs 1, so the sum orders pages as the mean over the words,
    # which is what ts_rank of their OR computes: Wagtail's old order.
    idf_sql = (
        "GREATEST(ln((n.n - count(*) + 0.5)::float8 / (count(*) + 0.5)), 1e-6)" if idf else "1.0"
    )
    return f"""
        WITH operand AS (
            SELECT u.i, {to_tsquery} AS q
            FROM unnest(%s::text[]) WITH ORDINALITY AS u(operand, i)
        ), candidate AS (
            SELECT e."object_id", e."title", e."body", e."title_norm" FROM {entry} e
            WHERE e."content_type_id" IN ({placeholders}) AND e."object_id" IN ({scope_sql})
        ), hit AS (
            SELECT c."object_id", o.i,
                   ts_rank(%s::real[], c."title", o.q) * c."title_norm"
                   + ts_rank(%s::real[], c."body", o.q) AS tf
            FROM candidate c JOIN operand o ON c."title" @@ o.q OR c."body" @@ o.q
        ), idf AS (
            SELECT h.i,
                   {idf_sql} AS w
            FROM hit h CROSS JOIN (SELECT count(*) AS n FROM candidate) n
            GROUP BY h.i, n.n
        )
        SELECT h."object_id", sum(idf.w * h.tf) AS score
        FROM hit h JOIN idf ON idf.i = h.i
        GROUP BY h."object_id"
        ORDER BY score DESC, CAST(h."object_id" AS integer) DESC
        LIMIT %s
    """
