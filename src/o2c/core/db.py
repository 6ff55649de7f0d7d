"""Database expressions that SQLite and PostgreSQL spell differently."""

from django.db import models
from django.db.models import DateField, Func, IntegerField


class DaysBetween(Func):
    """Whole days from the second date to the first (later − earlier is positive)."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        later, earlier = self.source_expressions
        later_sql, later_params = compiler.compile(later)
        earlier_sql, earlier_params = compiler.compile(earlier)
        if connection.vendor == "sqlite":
            sql = f"CAST(julianday({later_sql}) - julianday({earlier_sql}) AS INTEGER)"
        else:
            sql = f"({later_sql}::date - {earlier_sql}::date)"
        return sql, (*later_params, *earlier_params)


def insert_rows(model, rows: list[dict], *, batch_size: int = 5000) -> int:
    """Insert new rows of `model` given as {attname: value}, with one prepared statement.

    Django's bulk_create compiles SQL for every batch, which costs more than SQLite
    spends writing; large imports use this instead. Fields missing from a row take
    their default. Each value is adapted as the ORM would store it (MoneyField as its
    exact storage form, dates by the backend's adapter). Returns the number of rows.
    """
    from django.db import DEFAULT_DB_ALIAS, connections

    # The real connection object, not the `django.db.connection` proxy: every attribute
    # read through the proxy costs a context-local lookup, millions of times here.
    connection = connections[DEFAULT_DB_ALIAS]
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    adapters = [_adapter(field, connection) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    defaults = [(field.attname, field.get_default()) for field in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            params = [
                [
                    adapt(row.get(attname, default))
                    for adapt, (attname, default) in zip(adapters, defaults, strict=True)
                ]
                for row in rows[start : start + batch_size]
            ]
            cursor.executemany(sql, params)
    return len(rows)


_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def _adapter(field, connection):
    """Return a function turning a Python value into what the column stores."""
    from o2c.core.fields import MoneyField

    if isinstance(field, MoneyField):
        return lambda value: field.get_db_prep_value(value, connection, prepared=True)
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datefield_value
    if (
        isinstance(field, _PLAIN_FIELDS)
        and not field.choices
        or isinstance(field, models.ForeignKey)
    ):
        return _unchanged
    return lambda value: field.get_db_prep_save(value, connection)


def _unchanged(value):
    return value


class MonthStart(Func):
    """The first day of a date's month, computed by the database itself.

    Django's TruncMonth calls a Python function for every row on SQLite; SQLite's own
    strftime is several times faster on the large GROUP BYs of the reports.
    """

    output_field = DateField()
    arity = 1

    def as_sql(self, compiler, connection, **extra_context):
        (expression,) = self.source_expressions
        sql, params = compiler.compile(expression)
        if connection.vendor == "sqlite":
            return f"strftime('%%Y-%%m-01', {sql})", params
        return f"CAST(date_trunc('month', {sql}) AS date)", params
