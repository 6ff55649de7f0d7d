"""Credit pages: the credit team's queue, decisions on held orders, a customer's credit."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from o2c.core.errors import O2CError
from o2c.credit import services
from o2c.credit.exposure import compute_exposure, past_due_beyond
from o2c.credit.models import CreditCheck, CreditProfile
from o2c.credit.selectors import (
    credit_queue,
    holds_without_open_approval,
    is_credit_member,
    may_manage_credit,
)
from o2c.fx.errors import RateError
from o2c.orders.selectors import order_for
from o2c.parties.selectors import customer_for
from o2c.teams.models import WorkKind

PAGE_SIZE = 50


@login_required
def queue(request):
    mine = request.GET.get("mine") == "1"
    kind = request.GET.get("kind", "")
    items = credit_queue(request.user, mine=mine, kind=kind)
    is_member = is_credit_member(request.user)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "mine": mine,
        "kind": kind,
        "kinds": [
            (WorkKind.CREDIT_APPROVAL, "Credit approvals"),
            (WorkKind.CREDIT_REVIEW, "Credit reviews"),
        ],
        "is_member": is_member,
        "unattended_holds": list(
            holds_without_open_approval(request.user, is_member=is_member)[:PAGE_SIZE]
        ),
    }
    return render(request, "credit/queue.html", context)


@login_required
def hold_detail(request, order_id: int):
    order = order_for(request.user, order_id)
    hold = services.open_hold(order)
    may_decide = hold is not None and services.can_decide(request.user, hold)
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied("You may not decide on this credit hold.")
        approve = request.POST.get("decision") == "approve"
        try:
            services.decide_credit_hold(
                order, approve=approve, reason=request.POST.get("reason", ""), actor=request.user
            )
        except O2CError as error:
            messages.error(request, error.message)
            return redirect("credit:hold_detail", order_id=order.pk)
        messages.success(
            request, f"Order {order.number}: credit hold {'approved' if approve else 'rejected'}."
        )
        return redirect("orders:order_detail", order_id=order.pk)
    context = {
        "order": order,
        "hold": hold,
        "may_decide": may_decide,
        "checks": list(CreditCheck.objects.filter(order=order).select_related("decided_by")),
    }
    return render(request, "credit/hold_detail.html", context)


@login_required
def customer_credit(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    today = customer.entity.today()
    policy = services.policy_for(customer.entity)
    context = {
        "customer": customer,
        "today": today,
        "policy": policy,
        "profile": CreditProfile.objects.filter(customer=customer).first(),
        "review_due_on": services.review_due_on(customer, policy, today),
        "checks": list(
            CreditCheck.objects.filter(customer=customer).select_related("order", "decided_by")[
                :PAGE_SIZE
            ]
        ),
        "may_manage": may_manage_credit(request.user, customer.entity),
        "may_review": is_credit_member(request.user, customer.entity),
    }
    currency = customer.credit_limit_currency or customer.entity.base_currency
    try:
        context["exposure"] = compute_exposure(customer.entity, [customer.pk], currency, today)
        context["past_due"] = past_due_beyond(customer, today, policy.past_due_tolerance_days)
    except RateError as error:
        context["rate_error"] = error.message
    return render(request, "credit/customer_credit.html", context)


@login_required
@require_POST
def customer_limit(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    if not may_manage_credit(request.user, customer.entity):
        raise PermissionDenied("Only a credit lead or leader may change a credit limit.")
    amount = request.POST.get("amount", "").strip()
    try:
        services.set_credit_limit(
            customer,
            amount or None,
            request.POST.get("currency", ""),
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("credit:customer_credit", customer_id=customer.pk)


@login_required
@require_POST
def customer_block(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    if not may_manage_credit(request.user, customer.entity):
        raise PermissionDenied("Only a credit lead or leader may block a customer.")
    try:
        services.set_customer_blocked(
            customer,
            request.POST.get("blocked") == "1",
            reason=request.POST.get("reason", ""),
            actor=request.user,
        )
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("credit:customer_credit", customer_id=customer.pk)


@login_required
@require_POST
def customer_review(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    if not is_credit_member(request.user, customer.entity):
        raise PermissionDenied("Only the credit team records credit reviews.")
    try:
        services.complete_credit_review(
            customer, outcome=request.POST.get("outcome", ""), actor=request.user
        )
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("credit:customer_credit", customer_id=customer.pk)
