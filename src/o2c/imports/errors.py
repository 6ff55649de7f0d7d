from dataclasses import dataclass

from o2c.core.errors import O2CError


@dataclass(frozen=True)
class RecordProblem:
    """What is wrong with one record of a file, named so a person can find and fix it."""

    file: str
    line: int
    field: str
    message: str
    # True when the problem stops the rest of the file from being read (bad bytes),
    # so no record of it can be imported, not even under quarantine.
    whole_file: bool = False

    def __str__(self):
        return f"{self.file} line {self.line}, field {self.field}: {self.message}"

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


class ImportRejected(O2CError):
    """A file refused whole: nothing from it was written."""

    def __init__(self, file: str, problems: list[RecordProblem]):
        self.problems = problems
        shown = "\n".join(f"  {problem}" for problem in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        if any(problem.whole_file or problem.line <= 1 for problem in problems):
            template = (
                "{file} was not imported: the file cannot be read as a whole, so --quarantine "
                "cannot import the rest either. Fix it and import it again.\n{shown}{more}"
            )
        else:
            template = (
                "{file} was not imported: {count} record(s) have errors. Fix them, or run with "
                "--quarantine to import the rest.\n{shown}{more}"
            )
        super().__init__(
            "import_rejected",
            template,
            file=file,
            count=len({problem.line for problem in problems}),
            shown=shown,
            more=more,
        )


class ProfileError(O2CError):
    """A profile or column mapping that cannot be used to read a file."""
