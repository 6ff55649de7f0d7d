"""Errors of order intake, fulfilment and invoicing."""

from dataclasses import dataclass

from o2c.core.errors import O2CError


class OrderError(O2CError):
    """A change to an order that its state or the rules do not allow."""


@dataclass(frozen=True)
class OrderProblem:
    """A problem with one field of an order line (line 0 is the order header)."""

    line: int
    field: str
    code: str
    message: str

    def __str__(self):
        where = "order" if self.line == 0 else f"line {self.line}"
        return f"{where}, {self.field}: {self.message}"

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "code": self.code, "message": self.message}


class OrderInvalid(OrderError):
    """An order refused whole: every problem is listed and nothing was created."""

    def __init__(self, problems: list[OrderProblem], reference: str = ""):
        self.problems = problems
        shown = "; ".join(str(problem) for problem in problems[:20])
        more = f"; … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            "order_invalid",
            "Order {reference}was not accepted; fix these and send it again: {shown}{more}",
            reference=f"{reference} " if reference else "",
            shown=shown,
            more=more,
        )

    def as_dict(self) -> dict:
        return {**super().as_dict(), "problems": [problem.as_dict() for problem in self.problems]}


class OrderFileRejected(O2CError):
    """An order file refused whole: nothing from it was written."""

    def __init__(self, file: str, problems: list):
        self.problems = problems
        shown = "\n".join(f"  {problem}" for problem in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            "order_file_rejected",
            "{file} was not loaded and no order was created: {count} problem(s). Fix them "
            "and load the file again.\n{shown}{more}",
            file=file,
            count=len(problems),
            shown=shown,
            more=more,
        )

    def as_dict(self) -> dict:
        return {**super().as_dict(), "problems": [problem.as_dict() for problem in self.problems]}
