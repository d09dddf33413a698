"""Statements written once per database connection and shape, run with each call's values.

Building a statement through the ORM (and its converters) on every search cost more CPU than
running it (bench/request_cpu.py, docs/performance.md). The search's statements whose SQL
does not depend on the data are therefore written once per connection wrapper (the
converters are the connection's own; settings and schema do not change while a process
runs) and per shape (the number of ids, ...) and kept on the wrapper (`kept`), then run with
the values of each call (`PreparedStatement.rows`). Used by the search (pages, services,
visibility, own-language versions, full text) and the known problems' per-search signature
(incidents/matching.py); below every app in the layering, as it knows no app's models.

A statement comes from one of two places:
- `PreparedStatement.from_queryset`: an ORM queryset compiled once with stand-in values
  (values no row has) in place of each call's values, found again in the compiled
  parameters. None when a stand-in is not found exactly once (a Django version that writes
  its parameters otherwise): the caller then runs the ORM query, as before the statement.
- the constructor: SQL written out by the caller, with the parameters it keeps and the
  positions its values go to (none given: the values are the parameters).
"""

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections


class PreparedStatement:
    """SQL with its parameters, the positions each call's values take among them, and the
    compiler's converters for its columns. `layout`: what the caller keeps with it to read
    the rows (column names, where each model's columns end)."""

    __slots__ = ("sql", "alias", "params", "positions", "compiler", "converters", "layout")

    def __init__(
        self, sql, *, alias, params=(), positions=None, compiler=None, converters=None, layout=None
    ):
        self.sql = sql
        self.alias = alias
        self.params = tuple(params)
        self.positions = None if positions is None else tuple(positions)
        self.compiler = compiler
        self.converters = converters or {}
        self.layout = layout

    @classmethod
    def from_queryset(cls, queryset, stand_ins, layout=None):
        """The statement of `queryset`, written with `stand_ins` (as the database receives
        them: after the field's get_db_prep_value) in the places of a call's values, in the
        order rows() takes them; None when one is not found exactly once in its parameters
        (same type, equal) or the ORM writes no statement for them (EmptyResultSet: a value
        it knows no row can have)."""
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet):
            return None  # a stand-in the ORM judged impossible (or always true): no statement
        params = tuple(params)
        positions = []
        for stand_in in stand_ins:
            kind = type(stand_in)
            found = [i for i, p in enumerate(params) if type(p) is kind and p == stand_in]
            if len(found) != 1:
                return None
            positions.append(found[0])
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        return cls(
            sql,
            alias=queryset.db,
            params=params,
            positions=positions,
            compiler=compiler,
            converters=compiler.get_converters(fields),
            layout=layout,
        )

    def rows(self, values):
        """Run the statement with `values` in its positions (all its parameters when it has
        no positions): its rows, through the converters when a column has any (an iterable
        of lists then, as the ORM's compiler gives them)."""
        if self.positions is None:
            params = values
        else:
            params = list(self.params)
            for position, value in zip(self.positions, values, strict=True):
                params[position] = value
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            return self.compiler.apply_converters(rows, self.converters)
        return rows


def kept(alias, name, key, build, *args):
    """The statement for `key` kept on this thread's connection wrapper of `alias` in its
    dict `name`; written by build(*args) the first time (None is kept as well: a statement
    that cannot be written is not tried again for that key)."""
    cache = connections[alias].__dict__.setdefault(name, {})
    try:
        return cache[key]
    except KeyError:
        statement = cache[key] = build(*args)
        return statement
