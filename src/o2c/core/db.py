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
