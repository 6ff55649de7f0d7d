"""Dispute pages: the list, one case, new cases, evidence, resolution, root causes."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from o2c.core.errors import O2CError
from o2c.disputes import selectors, services
from o2c.disputes.models import DisputeReason, DisputeStatus, WriteOffStatus
from o2c.disputes.routing import responsible_team
from o2c.ledger.models import Document
from o2c.parties.selectors import customer_for, debit_open_items

PAGE_SIZE = 50


@login_required
def dispute_list(request):
    disputes = selectors.disputes_for(request.user)
    status = request.GET.get("status", DisputeStatus.OPEN)
    if status in DisputeStatus.values:
        disputes = disputes.filter(status=status)
    page = Paginator(disputes.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "disputes/list.html",
        {"page": page, "status": status, "statuses": DisputeStatus.choices},
    )


@login_required
def new_dispute(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    open_items = list(debit_open_items(customer, customer.entity.today())[:200])
    if request.method == "POST":
        chosen = []
        by_id = {str(item.pk): item for item in open_items}
        for key in request.POST.getlist("invoice"):
            if key in by_id:
                chosen.append(
                    (
                        Document.objects.get(pk=by_id[key].pk),
                        request.POST.get(f"amount_{key}") or str(by_id[key].open_amount),
                        request.POST.get(f"line_{key}", ""),
                    )
                )
        try:
            disputes = services.open_dispute(
                customer,
                lines=chosen,
                reason=request.POST.get("reason", ""),
                actor=request.user,
                description=request.POST.get("description", ""),
            )
            messages.success(request, f"Dispute {disputes[0].case_number} opened.")
            return redirect("disputes:detail", disputes[0].pk)
        except O2CError as error:
            messages.error(request, error.message)
    reasons = [choice for choice in DisputeReason.choices if choice[0] != DisputeReason.UNSPECIFIED]
    return render(
        request,
        "disputes/new.html",
        {"customer": customer, "open_items": open_items, "reasons": reasons},
    )


@login_required
def detail(request, dispute_id: int):
    dispute = selectors.dispute_for(request.user, dispute_id)
    context = {
        "dispute": dispute,
        "case": selectors.disputes_for(request.user).filter(case_number=dispute.case_number)
        if dispute.case_number
        else [dispute],
        "attachments": dispute.attachments.all(),
        "write_offs": dispute.write_offs.select_related("requested_by", "decided_by"),
        "can_work": services.can_work_on(request.user, dispute),
        "team": responsible_team(dispute),
        "threshold": services.approval_threshold(dispute.entity),
        "pending": WriteOffStatus.PENDING,
    }
    return render(request, "disputes/detail.html", context)


@login_required
@require_POST
def upload_evidence(request, dispute_id: int):
    dispute = selectors.dispute_for(request.user, dispute_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a file to upload.")
    else:
        try:
            services.attach_evidence(dispute, upload, actor=request.user)
            messages.success(request, f"{upload.name} attached.")
        except O2CError as error:
            messages.error(request, error.message)
    return redirect("disputes:detail", dispute.pk)


@login_required
def download_evidence(request, dispute_id: int, attachment_id: int):
    dispute = selectors.dispute_for(request.user, dispute_id)
    attachment = dispute.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such attachment.")
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@login_required
@require_POST
def resolve(request, dispute_id: int):
    dispute = selectors.dispute_for(request.user, dispute_id)
    how = request.POST.get("how")
    note = request.POST.get("note", "")
    amount = request.POST.get("amount") or None
    try:
        if how == "credit_note":
            services.resolve_by_credit_note(dispute, actor=request.user, note=note, amount=amount)
            messages.success(request, "Credit note posted and applied.")
        elif how == "write_off":
            write_off = services.request_write_off(
                dispute, actor=request.user, reason=note, amount=amount
            )
            if write_off.status == WriteOffStatus.PENDING:
                messages.success(request, "Write-off requested; a lead must approve it.")
            else:
                messages.success(request, "Written off.")
        elif how == "reject":
            services.reject_dispute(dispute, actor=request.user, reason=note)
            messages.success(request, "Dispute rejected; the customer is told why.")
        else:
            messages.error(request, "Choose how to resolve the dispute.")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("disputes:detail", dispute.pk)


@login_required
@require_POST
def decide(request, request_id: int):
    write_off = selectors.write_off_for(request.user, request_id)
    try:
        services.decide_write_off(
            write_off,
            approver=request.user,
            approve=request.POST.get("decision") == "approve",
            note=request.POST.get("note", ""),
        )
        messages.success(request, "Decision recorded.")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("disputes:detail", write_off.dispute_id)


@login_required
def report(request):
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today.replace(month=1, day=1)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    dimension = request.GET.get("by", "reason")
    rows = selectors.root_cause_report(selectors.disputes_for(request.user), dimension, start, end)
    return render(
        request,
        "disputes/report.html",
        {
            "rows": rows,
            "by": dimension,
            "start": start,
            "end": end,
            "dimensions": list(selectors.REPORT_DIMENSIONS),
        },
    )
