from o2c.core.errors import O2CError
from o2c.imports.errors import ImportRejected, RecordProblem


class BankingError(O2CError):
    """A bank account or statement that o2c cannot accept."""


class StatementFileRejected(ImportRejected):
    """A statement file refused whole: nothing from it was written."""

    def __init__(self, file: str, problems: list[RecordProblem]):
        self.problems = problems
        shown = "\n".join(f"  {problem}" for problem in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        O2CError.__init__(
            self,
            "statement_rejected",
            "{file} was not imported: {count} problem(s).\n{shown}{more}",
            file=file,
            count=len(problems),
            shown=shown,
            more=more,
        )
