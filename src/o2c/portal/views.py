"""Portal pages: sign-in, account overview, invoices, payments, statement, disputes.

Views translate the request and call services. Every read goes through
`o2c.portal.selectors` with the signed-in portal user's customer, so another
customer's documents return 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from o2c.billing.documents.common import einvoice_problems
from o2c.billing.services import document_file, early_payment_amount
from o2c.core.errors import O2CError
from o2c.disputes.models import DisputeReason
from o2c.payments import sepa
from o2c.payments import services as payment_services
from o2c.payments.gateways import card_gateway_for
from o2c.payments.models import PaymentMethod, PaymentStatus
from o2c.payments.transfer import BankTransfer
from o2c.portal import auth, selectors, services
from o2c.portal.auth import portal_login_required
from o2c.portal.formatting import date_text, error_text, money_text, parse_amount_input
from o2c.portal.mail import public_url
from o2c.portal.statement import build_statement, currencies_of, statement_pdf
from o2c.portal.texts import LANGUAGE_NAMES, LANGUAGES, words

ZERO = Decimal("0")
FILES = {"pdf": ("application/pdf", "pdf"), "ubl": ("application/xml", "xml")}
PAGE_ROWS = 200
# HEAD is allowed wherever GET is: link checkers and uptime monitors send it.
PAGE_METHODS = ["GET", "HEAD", "POST"]


def _page(request, template: str, context: dict, status: int = 200):
    portal = getattr(request, "portal", None)
    language = portal.language if portal else _guest_language(request)
    base = {"w": words(language), "lang": language, "portal": portal}
    return render(request, template, {**base, **context}, status=status)


def _guest_language(request) -> str:
    from o2c.portal.texts import language_of

    requested = request.GET.get("lang", "")
    return language_of(
        requested, request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else ""
    )


def _error(request, error: O2CError) -> None:
    portal = getattr(request, "portal", None)
    language = portal.language if portal else _guest_language(request)
    messages.error(request, error_text(error, language))


def parse_id(value: str | None) -> int | None:
    """Return a row id sent by a form or query string, or None when it is not one.

    Only ASCII digits count: `str.isdigit` also accepts characters such as "²" that
    `int` rejects. The length cap keeps the value within a 64-bit database integer.
    """
    if not value or len(value) > 18 or not value.isascii() or not value.isdigit():
        return None
    return int(value)


# Signing in ----------------------------------------------------------------------------


@never_cache
@require_http_methods(PAGE_METHODS)
def sign_in(request):
    next_path = request.POST.get("next") or request.GET.get("next", "")
    if not auth.safe_next(next_path):
        next_path = ""
    if request.method == "POST" and request.POST.get("action") == "link":
        outcome = services.request_sign_in_link(
            request.POST.get("email", ""), ip=auth.client_ip(request), next_path=next_path
        )
        if outcome == "throttled":
            return _page(
                request, "portal/sign_in.html", {"throttled": True, "next": next_path}, 429
            )
        return _page(request, "portal/link_sent.html", {})
    if request.method == "POST" and request.POST.get("action") == "password":
        return _password_sign_in(request, next_path)
    if request.method == "POST" and request.POST.get("action") == "choose":
        return _chosen_account(request, next_path)
    return _page(request, "portal/sign_in.html", {"next": next_path})


def _password_sign_in(request, next_path: str):
    try:
        users = services.check_password_sign_in(
            request.POST.get("email", ""),
            request.POST.get("password", ""),
            ip=auth.client_ip(request),
        )
    except services.PortalError:
        return _page(request, "portal/sign_in.html", {"locked": True, "next": next_path}, 429)
    if not users:
        return _page(request, "portal/sign_in.html", {"failed": True, "next": next_path}, 400)
    if len(users) > 1:
        # The chooser page carries a signed list of the accounts, never the password.
        return _page(
            request,
            "portal/sign_in.html",
            {
                "accounts": users,
                "choice": auth.account_choice_token(request, users),
                "next": next_path,
            },
        )
    return _sign_in_as(request, users[0], next_path)


def _chosen_account(request, next_path: str):
    chosen = parse_id(request.POST.get("account"))
    users = auth.accounts_of_choice(request, request.POST.get("choice", ""))
    users = [user for user in users if user.pk == chosen]
    if not users:
        return _page(request, "portal/sign_in.html", {"failed": True, "next": next_path}, 400)
    return _sign_in_as(request, users[0], next_path)


def _sign_in_as(request, portal_user, next_path: str):
    response = redirect(next_path or reverse("portal:home"))
    auth.start_session(request, response, portal_user)
    _rotate_csrf(request)
    return response


def _rotate_csrf(request) -> None:
    from django.middleware.csrf import rotate_token

    rotate_token(request)


@never_cache
@require_http_methods(PAGE_METHODS)
def link(request, token: str):
    """Show a sign-in link's confirmation page; the POST signs in and uses the link.

    Mail scanners fetch links with GET, so a GET never uses up the link.
    """
    if request.method in ("GET", "HEAD"):
        found = auth.find_link(token)
        if found is None:
            return _page(request, "portal/link_invalid.html", {}, 410)
        language = services_language(found.portal_user)
        return render(
            request,
            "portal/link_confirm.html",
            {"w": words(language), "lang": language, "customer": found.portal_user.customer},
        )
    used = auth.use_link(token)
    if used is None:
        return _page(request, "portal/link_invalid.html", {}, 410)
    return _sign_in_as(request, used.portal_user, used.next_path)


def services_language(portal_user) -> str:
    from o2c.portal.mail import user_language

    return user_language(portal_user)


@require_POST
def sign_out(request):
    response = redirect(reverse("portal:sign_in"))
    auth.end_session(request, response)
    messages.info(request, words(_guest_language(request))["signed_out"])
    return response


# Overview and invoices -----------------------------------------------------------------


@portal_login_required
def home(request):
    customer = request.portal.customer
    today = customer.entity.today()
    invoices = list(selectors.invoices_of(customer, state="open")[:PAGE_ROWS])
    return _page(
        request,
        "portal/home.html",
        {
            "customer": customer,
            "balances": selectors.balance_of(customer, today),
            "invoices": invoices,
            "today": today,
            "pending": list(
                selectors.pending_payments_of(customer).filter(
                    status__in=[PaymentStatus.PROCESSING, PaymentStatus.SCHEDULED]
                )[:20]
            ),
        },
    )


@portal_login_required
def invoice_list(request):
    customer = request.portal.customer
    state = request.GET.get("state", "open")
    if state not in ("open", "paid", "all"):
        state = "open"
    return _page(
        request,
        "portal/invoice_list.html",
        {
            "state": state,
            "invoices": list(selectors.invoices_of(customer, state=state)[:PAGE_ROWS]),
            "today": customer.entity.today(),
        },
    )


@portal_login_required
def invoice_detail(request, document_id: int):
    customer = request.portal.customer
    document = selectors.invoice_of(customer, document_id)
    invoice = selectors.billing_invoice(document)
    early = early_payment_amount(invoice) if invoice else None
    today = customer.entity.today()
    return _page(
        request,
        "portal/invoice_detail.html",
        {
            "document": document,
            "invoice": invoice,
            "applications": list(selectors.applications_to(document)),
            "disputes": list(document.disputes.order_by("-id")),
            "early": early if early and early[1] >= today else None,
            "today": today,
            "has_einvoice": invoice is not None and not einvoice_problems(invoice),
        },
    )


@portal_login_required
def invoice_file(request, document_id: int, kind: str):
    document = selectors.invoice_of(request.portal.customer, document_id)
    invoice = selectors.billing_invoice(document)
    if kind not in FILES or invoice is None:
        raise Http404("No such file.")
    return _file(document_file(invoice, kind), invoice.number, kind)


def _file(content: bytes, number: str, kind: str) -> HttpResponse:
    content_type, suffix = FILES[kind]
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{number}.{suffix}"'
    return response


@portal_login_required
def credit_note_list(request):
    return _page(
        request,
        "portal/credit_note_list.html",
        {"credit_notes": list(selectors.credit_notes_of(request.portal.customer)[:PAGE_ROWS])},
    )


@portal_login_required
def credit_note_file(request, document_id: int, kind: str):
    document = selectors.credit_note_of(request.portal.customer, document_id)
    credit_note = selectors.billing_credit_note(document)
    if kind not in FILES or credit_note is None:
        raise Http404("No such file.")
    return _file(document_file(credit_note, kind), credit_note.number, kind)


# Payments ------------------------------------------------------------------------------


@portal_login_required
def payment_list(request):
    customer = request.portal.customer
    return _page(
        request,
        "portal/payment_list.html",
        {
            "payments": list(selectors.payments_of(customer)[:PAGE_ROWS]),
            "pending": list(selectors.pending_payments_of(customer)[:50]),
        },
    )


@portal_login_required
def payment_detail(request, document_id: int):
    document = selectors.payment_of(request.portal.customer, document_id)
    return _page(
        request,
        "portal/payment_detail.html",
        {"payment": document, "applications": document.live_allocations},
    )


def _selected_ids(request) -> list[int]:
    values = request.POST.getlist("invoice") or request.GET.getlist("invoice")
    ids = (parse_id(value) for value in values)
    return [value for value in ids if value is not None]


@portal_login_required
@require_http_methods(PAGE_METHODS)
def pay(request):
    """Show the amounts and methods for the chosen invoices; POST starts the payment."""
    customer = request.portal.customer
    ids = _selected_ids(request)
    documents = list(selectors.invoices_of(customer, state="open").filter(pk__in=ids))
    if not documents:
        messages.error(request, words(request.portal.language)["no_rows"])
        return redirect("portal:home")
    today = customer.entity.today()
    in_flight = payment_services.pending_amounts(document.pk for document in documents)
    rows = []
    for document in documents:
        pending = in_flight.get(document.pk, ZERO)
        proposed, discount = payment_services.proposed_amount(
            document, today, document.disputed, pending
        )
        rows.append(
            {"document": document, "proposed": proposed, "discount": discount, "pending": pending}
        )
    currencies = {document.currency for document in documents}
    currency = documents[0].currency if len(currencies) == 1 else ""
    methods = _methods(customer, currency)
    if request.method == "POST" and request.POST.get("method"):
        return _start_payment(request, rows, methods)
    return _page(
        request,
        "portal/pay.html",
        {
            "rows": rows,
            "currency": currency,
            "currencies": ", ".join(sorted(currencies)),
            "contact": customer.entity.email or customer.entity.name,
            "methods": methods,
            "idempotency_key": uuid.uuid4().hex,
        },
    )


def _methods(customer, currency: str) -> dict:
    methods = {}
    if not currency:
        return methods
    if card_gateway_for(customer, currency) is not None:
        methods["card"] = ""
    if BankTransfer().is_available(customer, currency):
        methods["transfer"] = ""
    direct_debit = sepa.DirectDebitMethod()
    mandate = selectors.active_mandate_of(customer)
    if mandate is not None and direct_debit.is_available(customer, currency):
        methods["sepa_dd"] = f"…{mandate.iban[-4:]}"
    return methods


def _start_payment(request, rows, methods):
    portal = request.portal
    method = request.POST["method"]
    key = request.POST.get("idempotency_key", "")[:64] or uuid.uuid4().hex
    try:
        requested = [
            (
                row["document"].pk,
                parse_amount_input(
                    request.POST.get(f"amount_{row['document'].pk}", ""),
                    portal.language,
                    field=row["document"].number,
                ),
            )
            for row in rows
        ]
        if method not in methods:
            raise O2CError("method_unavailable", "Choose one of the payment methods offered.")
        if method == "transfer":
            items = payment_services.plan_items(
                portal.customer, requested, on=portal.entity.today()
            )
            return _transfer_page(request, items)
        if method == "sepa_dd":
            payment = sepa.schedule_debit(
                portal.customer, requested, idempotency_key=key, portal_user=portal.user
            )
            return redirect("portal:payment_status", payment.reference)
        payment = payment_services.start_card_payment(
            portal.customer,
            requested,
            idempotency_key=key,
            return_url=lambda created: public_url(
                reverse("portal:payment_return", args=[created.reference])
            ),
            cancel_url=public_url(reverse("portal:home")),
            portal_user=portal.user,
            email=portal.user.email,
            language=portal.language,
        )
    except O2CError as error:
        _error(request, error)
        query = "&".join(f"invoice={row['document'].pk}" for row in rows)
        return redirect(f"{reverse('portal:pay')}?{query}")
    if payment.status == PaymentStatus.PENDING and payment.checkout_url:
        return redirect(payment.checkout_url)
    return redirect("portal:payment_status", payment.reference)


def _transfer_page(request, items):
    adapter = BankTransfer()
    instructions = [adapter.instructions(item.invoice, item.amount) for item in items]
    return _page(request, "portal/transfer.html", {"instructions": instructions})


@portal_login_required
def payment_return(request, reference: str):
    """Note the payer's return from the gateway, then show the payment's status page."""
    payment = selectors.portal_payment_of(request.portal.customer, reference)
    payment_services.note_return(payment, request.GET.dict())
    return redirect("portal:payment_status", payment.reference)


@portal_login_required
def payment_status(request, reference: str):
    payment = selectors.portal_payment_of(request.portal.customer, reference)
    template = "portal/_payment_status.html" if request.htmx else "portal/payment_status.html"
    return _page(
        request,
        template,
        {
            "payment": payment,
            "settled": payment.document_id is not None,
            "waiting": payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
            and payment.method == PaymentMethod.CARD,
        },
    )


# Statement -----------------------------------------------------------------------------


def _period(request, today: dt.date) -> tuple[dt.date, dt.date]:
    default_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    try:
        start = (
            dt.date.fromisoformat(request.GET.get("from", ""))
            if request.GET.get("from")
            else default_start
        )
        end = dt.date.fromisoformat(request.GET.get("to", "")) if request.GET.get("to") else today
    except ValueError:
        return default_start, today
    if end < start:
        start, end = end, start
    if (end - start).days > 731:
        start = end - dt.timedelta(days=731)
    return start, end


@portal_login_required
def statement(request):
    customer = request.portal.customer
    start, end = _period(request, customer.entity.today())
    currencies = currencies_of(customer)
    currency = request.GET.get("currency", currencies[0])
    if currency not in currencies:
        currency = currencies[0]
    built = build_statement(customer, currency, start, end)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(
            statement_pdf(built, request.portal.language), content_type="application/pdf"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{customer.number}-{start}-{end}-{currency}.pdf"'
        )
        return response
    return _page(
        request,
        "portal/statement.html",
        {"statement": built, "currencies": currencies, "currency": currency},
    )


# Promises ------------------------------------------------------------------------------


@portal_login_required
@require_http_methods(PAGE_METHODS)
def promise(request):
    portal = request.portal
    ids = _selected_ids(request)
    documents = list(selectors.invoices_of(portal.customer, state="open").filter(pk__in=ids))
    if not documents:
        return redirect("portal:home")
    total = sum((document.open_amount for document in documents), ZERO)
    currency = documents[0].currency
    if request.method == "POST" and request.POST.get("promised_on"):
        try:
            promised_on = dt.date.fromisoformat(request.POST["promised_on"])
        except ValueError:
            messages.error(request, "Enter the date as YYYY-MM-DD.")
        else:
            try:
                amount = parse_amount_input(request.POST.get("amount", ""), portal.language)
                recorded = services.promise_to_pay(
                    portal.user,
                    document_ids=[document.pk for document in documents],
                    amount=amount or total,
                    promised_on=promised_on,
                    note=request.POST.get("note", ""),
                )
            except O2CError as error:
                _error(request, error)
            else:
                w = words(portal.language)
                messages.success(
                    request,
                    w["promise_recorded"].format(
                        amount=money_text(recorded.amount, recorded.currency, portal.language),
                        date=date_text(recorded.promised_on, portal.language),
                    ),
                )
                return redirect("portal:home")
    return _page(
        request,
        "portal/promise.html",
        {
            "documents": documents,
            "total": total,
            "currency": currency,
            "posted": request.POST,
            "min_date": portal.entity.today().isoformat(),
            "max_date": (
                portal.entity.today() + dt.timedelta(days=services.MAX_PROMISE_DAYS)
            ).isoformat(),
        },
    )


# Disputes ------------------------------------------------------------------------------


def _reasons(language: str) -> list[tuple[str, str]]:
    w = words(language)
    return [
        (value, w[f"reason_{value}"])
        for value in DisputeReason.values
        if value != DisputeReason.UNSPECIFIED
    ]


@portal_login_required
@require_http_methods(PAGE_METHODS)
def dispute_new(request, document_id: int):
    portal = request.portal
    document = selectors.invoice_of(portal.customer, document_id)
    invoice = selectors.billing_invoice(document)
    lines = list(invoice.lines.all()) if invoice else []
    room = max(document.open_amount - document.disputed, ZERO)
    if request.method == "POST":
        line_reference = ""
        position = request.POST.get("line", "")
        chosen = next((line for line in lines if str(line.position) == position), None)
        if chosen is not None:
            line_reference = f"line {chosen.position}: {chosen.description}"[:100]
        try:
            amount = parse_amount_input(request.POST.get("amount", ""), portal.language)
            disputes = services.raise_dispute(
                portal.user,
                document=document,
                amount=amount or room,
                reason=request.POST.get("reason", ""),
                description=request.POST.get("description", ""),
                line_reference=line_reference,
                upload=request.FILES.get("attachment"),
            )
        except O2CError as error:
            _error(request, error)
        else:
            case = disputes[0].case_number
            messages.success(request, words(portal.language)["dispute_opened"].format(case=case))
            return redirect("portal:dispute_detail", case)
    return _page(
        request,
        "portal/dispute_new.html",
        {
            "document": document,
            "lines": lines,
            "room": room,
            "reasons": _reasons(portal.language),
            "posted": request.POST,
        },
    )


@portal_login_required
def dispute_list(request):
    return _page(
        request,
        "portal/dispute_list.html",
        {"disputes": list(selectors.disputes_of(request.portal.customer)[:PAGE_ROWS])},
    )


@portal_login_required
@require_http_methods(PAGE_METHODS)
def dispute_detail(request, case_number: str):
    portal = request.portal
    disputes = selectors.case_of(portal.customer, case_number)
    if request.method == "POST" and request.FILES.get("attachment"):
        try:
            services.add_evidence(portal.user, disputes[0], request.FILES["attachment"])
        except O2CError as error:
            _error(request, error)
        return redirect("portal:dispute_detail", case_number)
    from o2c.portal.notify import resolution_text

    uploads = _customer_uploads(disputes)
    return _page(
        request,
        "portal/dispute_detail.html",
        {
            "case_number": case_number,
            "disputes": disputes,
            "outcomes": {
                dispute.pk: resolution_text(dispute, portal.language)
                for dispute in disputes
                if dispute.status != "open"
            },
            "reasons": dict(_reasons(portal.language)),
            "descriptions": {
                dispute.pk: services.customer_description(dispute) for dispute in disputes
            },
            "uploads": uploads,
            "is_open": any(dispute.status == "open" for dispute in disputes),
        },
    )


@portal_login_required
@require_http_methods(["GET", "HEAD"])
def dispute_file(request, case_number: str, attachment_id: int):
    """Send back a file the customer attached to one of their disputes."""
    disputes = selectors.case_of(request.portal.customer, case_number)
    attachment = next(
        (item for item in _customer_uploads(disputes) if item.pk == attachment_id), None
    )
    if attachment is None:
        raise Http404("No such file.")
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


def _customer_uploads(disputes) -> list:
    """Return the files sent through the portal; staff evidence stays internal."""
    return [
        attachment
        for dispute in disputes
        for attachment in dispute.attachments.all()
        if hasattr(attachment, "portal_upload")
    ]


# Account -------------------------------------------------------------------------------


@portal_login_required
@require_http_methods(PAGE_METHODS)
def account(request):
    portal = request.portal
    user = portal.user
    w = words(portal.language)
    action = request.POST.get("action", "")
    status = 200
    try:
        if action == "contact":
            services.update_billing_contact(
                user,
                name=request.POST.get("name", ""),
                email=request.POST.get("email", ""),
                phone=request.POST.get("phone", ""),
            )
            if not user.is_current:
                # The signed-in address was the one replaced, so its session has ended.
                response = redirect("portal:sign_in")
                auth.end_session(request, response)
                messages.success(request, w["contact_saved_signed_out"])
                return response
            messages.success(request, w["contact_saved"])
            return redirect("portal:account")
        if action == "preferences":
            services.update_preferences(
                user,
                language=request.POST.get("language", ""),
                monthly_statement=request.POST.get("monthly_statement") == "on",
                receipts=request.POST.get("receipts") == "on",
            )
            messages.success(request, words(user.language or portal.language)["preferences_saved"])
            return redirect("portal:account")
        if action == "set_password":
            services.set_password(user, request.POST.get("password", ""))
            messages.success(request, w["password_saved"])
            return redirect("portal:account")
        if action == "remove_password":
            services.set_password(user, None)
            messages.success(request, w["password_removed"])
            return redirect("portal:account")
        if action == "revoke_mandate" and parse_id(request.POST.get("mandate")) is None:
            # A form value that is no id at all is a bad request, not a missing mandate.
            status = 400
            raise services.PortalError(
                "mandate_missing", "Choose a mandate to revoke; reload the page and try again."
            )
        if action == "revoke_mandate":
            mandate = selectors.mandate_of(portal.customer, parse_id(request.POST["mandate"]))
            sepa.revoke_mandate(mandate, reason=f"revoked in the customer portal by {user.email}")
            messages.success(request, w["mandate_revoked"].format(reference=mandate.reference))
            return redirect("portal:account")
    except O2CError as error:
        _error(request, error)
    contact = portal.customer.contacts.filter(role="billing").order_by("-is_primary", "pk").first()
    return _page(
        request,
        "portal/account.html",
        {
            "contact": contact,
            "user": user,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "mandates": list(selectors.mandates_of(portal.customer)),
            "direct_debit": bool(sepa.creditor_id(portal.entity)),
        },
        status,
    )


@portal_login_required
@require_http_methods(PAGE_METHODS)
def mandate_new(request):
    portal = request.portal
    creditor_id = sepa.creditor_id(portal.entity)
    if not creditor_id:
        raise Http404("Direct debit is not offered.")
    if request.method == "POST":
        if request.POST.get("accept") != "on":
            messages.error(request, words(portal.language)["mandate_accept"])
        else:
            try:
                mandate = sepa.sign_mandate(
                    portal.customer,
                    debtor_name=request.POST.get("debtor_name", ""),
                    iban=request.POST.get("iban", ""),
                    bic=request.POST.get("bic", ""),
                    is_recurrent=request.POST.get("kind", "recurrent") == "recurrent",
                    portal_user=portal.user,
                    ip_address=auth.client_ip(request),
                )
            except O2CError as error:
                _error(request, error)
            else:
                messages.success(
                    request,
                    words(portal.language)["mandate_signed"].format(reference=mandate.reference),
                )
                return redirect("portal:account")
    return _page(
        request,
        "portal/mandate_new.html",
        {"creditor": portal.entity.name, "creditor_id": creditor_id, "posted": request.POST},
    )
