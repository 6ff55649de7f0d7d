"""Orders from a CSV file: one row per order line, rows of one purchase order grouped.

Columns (header names, any order; comma or semicolon separated, UTF-8):
- customer (required): the customer number in the entity.
- customer_reference (required): the buyer's PO number; rows sharing customer and
  reference form one order, in file order.
- product (required): our product code. quantity (required).
- optional: order_date, currency, unit, unit_price, discount_percent, requested_on,
  requested_delivery_on, description, notes.

The file is read whole and every order validated by the order service before anything
is written. One bad row rejects the file, and each problem names its line and column.
Loading the same file again creates nothing: an order already placed with the same
customer reference and the same lines is counted as unchanged.
"""

import csv
import hashlib
import io
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from o2c.imports.errors import RecordProblem
from o2c.imports.models import ImportRun, ImportStatus
from o2c.orders.errors import OrderFileRejected, OrderInvalid
from o2c.orders.intake import LineRequest, OrderRequest, validate_order
from o2c.orders.models import Order, OrderChannel
from o2c.orders.services import place_order
from o2c.parties.models import Customer, LegalEntity
from o2c.teams.selectors import visible_customers

logger = logging.getLogger(__name__)

REQUIRED = ("customer", "customer_reference", "product", "quantity")
OPTIONAL = (
    "order_date",
    "currency",
    "unit",
    "unit_price",
    "discount_percent",
    "requested_on",
    "requested_delivery_on",
    "description",
    "notes",
)
HEADER_FIELDS = ("order_date", "currency", "requested_delivery_on", "notes")
MAX_ROWS = 50_000


@dataclass
class CsvResult:
    run: ImportRun
    orders: list[Order]
    created: int
    unchanged: int


@dataclass
class _Group:
    customer: Customer
    reference: str
    rows: list[tuple[int, dict]]

    def request(self) -> OrderRequest:
        first = self.rows[0][1]
        return OrderRequest(
            customer=self.customer,
            channel=OrderChannel.CSV,
            customer_reference=self.reference,
            currency=first.get("currency", ""),
            order_date=first.get("order_date") or None,
            requested_delivery_on=first.get("requested_delivery_on") or None,
            notes=first.get("notes", ""),
            lines=[
                LineRequest(
                    product_code=row["product"],
                    quantity=row["quantity"],
                    unit=row.get("unit", ""),
                    unit_price=row.get("unit_price") or None,
                    discount_percent=row.get("discount_percent") or None,
                    requested_on=row.get("requested_on") or None,
                    description=row.get("description", ""),
                )
                for _, row in self.rows
            ],
        )

    def line_of(self, order_line: int) -> int:
        if 1 <= order_line <= len(self.rows):
            return self.rows[order_line - 1][0]
        return self.rows[0][0]


def _read(content: bytes, file_name: str) -> tuple[list[tuple[int, dict]], list[RecordProblem]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        bad = content[error.start : error.end].hex(" ")
        return [], [
            RecordProblem(
                file_name,
                line,
                "encoding",
                f"byte(s) {bad} are not UTF-8 ({error.reason}); save the file as UTF-8",
            )
        ]
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return [], [
            RecordProblem(file_name, 1, name, "column missing from the header") for name in missing
        ]
    unknown = [name for name in header if name and name not in REQUIRED + OPTIONAL]
    if unknown:
        return [], [
            RecordProblem(file_name, 1, name, "unknown column; remove it or fix its name")
            for name in unknown
        ]
    reader.fieldnames = header
    rows = []
    for row in reader:
        line = reader.line_num
        # DictReader puts surplus cells under the key None and fills missing ones with None.
        cells = len(header) + len(row.get(None, [])) - list(row.values()).count(None)
        if cells != len(header):
            return [], [
                RecordProblem(
                    file_name, line, "row", f"{cells} fields, the header has {len(header)}"
                )
            ]
        values = {key: (value or "").strip() for key, value in row.items()}
        if not any(values.values()):
            continue
        rows.append((line, values))
        if len(rows) > MAX_ROWS:
            return [], [RecordProblem(file_name, line, "row", f"more than {MAX_ROWS} rows")]
    if not rows:
        return [], [RecordProblem(file_name, 1, "row", "the file has no order lines")]
    return rows, []


def _group(rows, entity, actor, file_name):
    problems: list[RecordProblem] = []
    customers = Customer.objects.filter(entity=entity).select_related("entity")
    if actor is not None:
        customers = customers.filter(pk__in=visible_customers(actor).values("pk"))
    numbers = {values["customer"] for _, values in rows}
    by_number = {customer.number: customer for customer in customers.filter(number__in=numbers)}
    groups: dict[tuple[str, str], _Group] = {}
    for line, values in rows:
        for name in REQUIRED:
            if not values.get(name):
                problems.append(RecordProblem(file_name, line, name, "missing"))
        customer = by_number.get(values["customer"])
        if values["customer"] and customer is None:
            problems.append(
                RecordProblem(
                    file_name,
                    line,
                    "customer",
                    f"no customer {values['customer']!r} in {entity.code}",
                )
            )
        if customer is None or not values.get("customer_reference"):
            continue
        key = (customer.number, values["customer_reference"])
        group = groups.setdefault(key, _Group(customer, values["customer_reference"], []))
        first = group.rows[0][1] if group.rows else values
        for name in HEADER_FIELDS:
            if values.get(name, "") != first.get(name, ""):
                problems.append(
                    RecordProblem(
                        file_name,
                        line,
                        name,
                        f"{values.get(name, '')!r} differs from {first.get(name, '')!r} on an "
                        f"earlier row of PO {group.reference}",
                    )
                )
        group.rows.append((line, values))
    return list(groups.values()), problems


def import_orders_csv(
    content: bytes,
    file_name: str,
    *,
    entity: LegalEntity,
    actor=None,
    submit: bool = True,
) -> CsvResult:
    """Load a CSV file of order lines, all orders or none; raise OrderFileRejected on errors."""
    sha256 = hashlib.sha256(content).hexdigest()
    started_at = timezone.now()
    rows, problems = _read(content, file_name)
    groups: list[_Group] = []
    if not problems:
        groups, problems = _group(rows, entity, actor, file_name)
    validated = {}
    for group in groups:
        try:
            validated[id(group)] = validate_order(group.request())
        except OrderInvalid as error:
            problems.extend(
                RecordProblem(
                    file_name, group.line_of(problem.line), problem.field, problem.message
                )
                for problem in error.problems
            )
    if problems:
        _reject(file_name, sha256, entity, started_at, problems, actor)

    try:
        with transaction.atomic():
            run = ImportRun.objects.create(
                kind="orders_csv",
                profile="orders_csv",
                file_name=file_name,
                file_sha256=sha256,
                entity=entity,
                status=ImportStatus.SUCCEEDED,
                started_at=started_at,
                user=actor,
            )
            orders, created = [], 0
            for group in groups:
                try:
                    order, was_created = place_order(
                        group.request(),
                        actor=actor,
                        submit=submit,
                        resend="return",
                        import_run=run,
                        validated=validated[id(group)],
                    )
                except OrderInvalid as error:
                    raise OrderFileRejected(
                        file_name,
                        [
                            RecordProblem(
                                file_name,
                                group.line_of(problem.line),
                                problem.field,
                                problem.message,
                            )
                            for problem in error.problems
                        ],
                    ) from None
                orders.append(order)
                created += was_created
            run.counts = {"orders_created": created, "orders_unchanged": len(orders) - created}
            run.finished_at = timezone.now()
            run.save(update_fields=["counts", "finished_at"])
    except OrderFileRejected as rejection:
        _reject(file_name, sha256, entity, started_at, rejection.problems, actor)
    logger.info(
        "Order file %s: %d created, %d unchanged", file_name, created, len(orders) - created
    )
    return CsvResult(run, orders, created, len(orders) - created)


def _reject(file_name, sha256, entity, started_at, problems, actor):
    problems = sorted(problems, key=lambda problem: problem.line)
    ImportRun.objects.create(
        kind="orders_csv",
        profile="orders_csv",
        file_name=file_name,
        file_sha256=sha256,
        entity=entity,
        status=ImportStatus.REJECTED,
        started_at=started_at,
        finished_at=timezone.now(),
        problems=[problem.as_dict() for problem in problems[:1000]],
        counts={"records_with_errors": len(problems)},
        user=actor,
    )
    logger.warning("Order file %s: rejected, %d problem(s)", file_name, len(problems))
    raise OrderFileRejected(file_name, problems)
