"""The `o2c` console script: Django's management commands under one name."""

import os
import sys

# Words of the SQLite and PostgreSQL errors for a table that migrations have not created.
MISSING_TABLE_SIGNS = ("no such table", "does not exist")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2c.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError, ProgrammingError

    argv = list(sys.argv)
    argv[0] = "o2c"
    try:
        execute_from_command_line(argv)
    except (OperationalError, ProgrammingError) as error:
        if not any(sign in str(error) for sign in MISSING_TABLE_SIGNS):
            raise
        sys.stderr.write(
            f"o2c: the database has no o2c tables yet ({error}). Run `o2c migrate` first, "
            "or `make demo` for the demo.\n"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
