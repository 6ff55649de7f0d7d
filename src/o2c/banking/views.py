"""Statement pages: the statements of the accounts a person works on, and their lines."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from o2c.banking import selectors
from o2c.cashapp.selectors import cash_entities

PAGE_SIZE = 50
LINES_SHOWN = 500


@login_required
def statement_list(request):
    if not cash_entities(request.user).exists():
        raise PermissionDenied("Only cash application teams see bank statements.")
    statements = selectors.statements_for(request.user)
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "banking/statement_list.html", {"page": page})


@login_required
def statement_detail(request, statement_id: int):
    statement = selectors.statement_for(request.user, statement_id)
    lines = list(statement.lines.order_by("position")[:LINES_SHOWN])
    return render(
        request,
        "banking/statement_detail.html",
        {"statement": statement, "lines": lines, "capped": len(lines) == LINES_SHOWN},
    )
