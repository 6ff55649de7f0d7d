"""The cash application queue, one line's workbench, and the matching rules page.

Every view checks the person's entity scope (`selectors.line_for`, `cash_entities`)
and, for anything about a customer, the customer scope (`customer_for`). Actions post
through the services and answer htmx with the refreshed workbench, telling the queue
list to reload.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from o2c.cashapp import selectors, services
from o2c.cashapp.errors import CashAppError
from o2c.cashapp.models import HintKind, LineMatch, MatchingRules, Suggestion
from o2c.core.errors import O2CError
from o2c.ledger.models import Document, Side
from o2c.parties.selectors import customer_for

PAGE_SIZE = 50


@login_required
def queue(request):
    entities = list(selectors.cash_entities(request.user))
    if not entities:
        raise PermissionDenied("Only cash application teams see the bank lines queue.")
    entity = None
    entity_code = request.GET.get("entity", "")
    if entity_code:
        entity = next((item for item in entities if item.code == entity_code), None)
        if entity is None:
            raise Http404("No such entity.")
    search = request.GET.get("q", "").strip()
    lines = selectors.queue_lines(request.user, entity=entity, search=search)
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    best = selectors.best_suggestions(request.user, list(page))
    rows = [{"line": line, "best": best.get(line.pk)} for line in page]
    context = {
        "entities": entities,
        "entity": entity,
        "search": search,
        "page": page,
        "rows": rows,
        "can_edit_rules": bool(selectors.rule_entities(request.user)),
    }
    if request.htmx and request.GET.get("part") == "rows":
        return render(request, "cashapp/_queue_rows.html", context)
    return render(request, "cashapp/queue.html", context)


def _workbench(request, line, *, outcome=None, error=None, status=200):
    context = {
        "line": line,
        "suggestions": selectors.suggestions_for(request.user, line)
        if line.state in selectors.QUEUE_STATES
        else [],
        "match": LineMatch.objects.filter(line=line).select_related("customer").first(),
        "outcome": outcome,
        "error": error,
        "is_open": line.state in selectors.QUEUE_STATES,
    }
    response = render(request, "cashapp/_workbench.html", context, status=status)
    if outcome is not None:
        response["HX-Trigger"] = "queue-changed"
    return response


@login_required
def line_detail(request, line_id: int):
    line = selectors.line_for(request.user, line_id)
    if request.htmx:
        return _workbench(request, line)
    return render(
        request,
        "cashapp/line.html",
        {
            "line": line,
            "suggestions": selectors.suggestions_for(request.user, line),
            "match": LineMatch.objects.filter(line=line).select_related("customer").first(),
            "is_open": line.state in selectors.QUEUE_STATES,
        },
    )


@login_required
def search_items(request, line_id: int):
    line = selectors.line_for(request.user, line_id)
    items = selectors.search_open_items(request.user, line.entity, request.GET.get("q", ""))
    return render(request, "cashapp/_search_results.html", {"line": line, "items": items})


def _act(request, line, action):
    """Run one decision, answering htmx with the workbench and others with a redirect."""
    try:
        outcome = action()
    except O2CError as error:
        if request.htmx:
            return _workbench(request, line, error=error.message, status=400)
        messages.error(request, error.message)
        return redirect("cashapp:line_detail", line_id=line.pk)
    line.refresh_from_db()
    if request.htmx:
        return _workbench(request, line, outcome=outcome)
    messages.success(request, outcome)
    return redirect("cashapp:queue")


def _reason(request) -> str:
    return request.POST.get("reason", "").strip()


@login_required
@require_POST
def accept(request, line_id: int, suggestion_id: int):
    line = selectors.line_for(request.user, line_id)
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id, line=line)
    customer_for(request.user, suggestion.customer_id)

    def action():
        match = services.accept_suggestion(suggestion, actor=request.user)
        return f"Applied to {suggestion.customer}: {_applied_text(match)}"

    return _act(request, line, action)


@login_required
@require_POST
def split(request, line_id: int):
    line = selectors.line_for(request.user, line_id)
    document_ids = request.POST.getlist("document")
    amounts = request.POST.getlist("amount")

    def action():
        parts = []
        documents = {
            document.pk: document
            for document in Document.objects.filter(
                pk__in=[value for value in document_ids if value.isdigit()],
                entity=line.entity,
                side=Side.DEBIT,
            )
        }
        customer = None
        for document_id, amount_text in zip(document_ids, amounts, strict=False):
            if not amount_text.strip():
                continue
            document = documents.get(int(document_id)) if document_id.isdigit() else None
            if document is None:
                raise CashAppError("no_such_invoice", "Choose invoices from the search.")
            customer = customer_for(request.user, document.customer_id)
            if document.customer_id != customer.pk:
                raise CashAppError("split_customers", "Split over one customer's invoices.")
            parts.append((document, _amount(amount_text, document.number)))
        if customer is None:
            raise CashAppError("nothing_chosen", "Enter an amount for at least one invoice.")
        if len({document.customer_id for document, _ in parts}) > 1:
            raise CashAppError("split_customers", "Split over one customer's invoices only.")
        match = services.apply_split(
            line, customer, parts, actor=request.user, note=_reason(request)
        )
        return f"Split over {len(parts)} invoice(s) of {customer}: {_applied_text(match)}"

    return _act(request, line, action)


def _amount(text: str, number: str) -> Decimal:
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise CashAppError(
            "invalid_amount", "{text!r} for {number} is not an amount.", text=text, number=number
        ) from None


def _customer(request, line):
    value = request.POST.get("customer", "")
    if not value.isdigit():
        raise CashAppError("customer_required", "Choose the customer first.")
    customer = customer_for(request.user, int(value))
    if customer.entity_id != line.entity_id:
        raise Http404("No such customer.")
    return customer


@login_required
@require_POST
def on_account(request, line_id: int):
    line = selectors.line_for(request.user, line_id)

    def action():
        customer = _customer(request, line)
        services.put_on_account(line, customer, actor=request.user, note=_reason(request))
        return f"{line.shown_amount} {line.currency} put on the account of {customer}"

    return _act(request, line, action)


@login_required
@require_POST
def refund(request, line_id: int):
    line = selectors.line_for(request.user, line_id)

    def action():
        customer = _customer(request, line)
        services.refund_line(line, customer, actor=request.user, reason=_reason(request))
        return f"{line.shown_amount} {line.currency} refunded to {customer}"

    return _act(request, line, action)


@login_required
@require_POST
def return_to_payer(request, line_id: int):
    line = selectors.line_for(request.user, line_id)

    def action():
        customer = None
        if request.POST.get("customer", "").isdigit():
            customer = _customer(request, line)
        services.return_line(line, actor=request.user, reason=_reason(request), customer=customer)
        return f"{line.shown_amount} {line.currency} returned to the payer"

    return _act(request, line, action)


def _applied_text(match: LineMatch) -> str:
    parts = [f"{item['invoice']} {item['amount']} {item['currency']}" for item in match.applied]
    text = ", ".join(parts) or "nothing applied"
    if match.on_account_amount:
        text += f"; {match.on_account_amount} on account"
    return text


class RulesForm(forms.ModelForm):
    class Meta:
        model = MatchingRules
        fields = [
            "auto_post_threshold",
            "suggestion_floor",
            "write_off_limit_amount",
            "write_off_limit_percent",
            "bank_charge_limit_amount",
            "deduction_min_coverage_percent",
            "fx_tolerance_percent",
            "max_combination_size",
            "max_combination_candidates",
            "name_min_score",
        ]


class HintForm(forms.Form):
    customer = forms.IntegerField()
    kind = forms.ChoiceField(choices=HintKind.choices)
    value = forms.CharField(max_length=140)


@login_required
def rules(request, entity_code: str):
    entities = selectors.rule_entities(request.user)
    entity = next((item for item in entities if item.code == entity_code), None)
    if entity is None:
        raise PermissionDenied("Only leads of cash application edit the matching rules.")
    current = services.rules_for(entity)
    form = RulesForm(instance=current)
    hint_form = HintForm()
    if request.method == "POST" and request.POST.get("form") == "rules":
        form = RulesForm(request.POST, instance=current)
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in RulesForm.Meta.fields}
            services.update_rules(entity, actor=request.user, **values)
            messages.success(request, "Matching rules saved.")
            return redirect("cashapp:rules", entity_code=entity.code)
    elif request.method == "POST" and request.POST.get("form") == "hint":
        hint_form = HintForm(request.POST)
        if hint_form.is_valid():
            customer = customer_for(request.user, hint_form.cleaned_data["customer"])
            if customer.entity_id != entity.pk:
                raise Http404("No such customer.")
            try:
                services.add_hint(
                    customer,
                    hint_form.cleaned_data["kind"],
                    hint_form.cleaned_data["value"],
                    actor=request.user,
                )
            except O2CError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Hint saved for {customer}.")
                return redirect("cashapp:rules", entity_code=entity.code)
    hints = selectors.hints_for(request.user, entity)
    return render(
        request,
        "cashapp/rules.html",
        {"entity": entity, "form": form, "hint_form": hint_form, "hints": hints},
    )
