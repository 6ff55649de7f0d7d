"""Database expressions that SQLite and PostgreSQL spell differently."""

from django.db.models import Func, IntegerField


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
    their default. Values go through each field's get_db_prep_save, so MoneyField and
    dates are stored exactly as the ORM would store them. Returns the number of rows.
    """
    from django.db import connection

    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    defaults = {field.attname: field.get_default() for field in fields}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            params = [
                [
                    field.get_db_prep_save(
                        row.get(field.attname, defaults[field.attname]), connection
                    )
                    for field in fields
                ]
                for row in rows[start : start + batch_size]
            ]
            cursor.executemany(sql, params)
    return len(rows)
