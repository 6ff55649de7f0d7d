"""The catalogue (products, customer groups, price lists) and sales orders.

An order's lines keep the price, unit and tax category they were accepted with, so a
later change to the catalogue never changes an order already taken. Shipped and
invoiced quantities are stored per line; what is still to invoice is derived from
them, and the value still to invoice is `net_amount - invoiced_amount`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from o2c.core.fields import MoneyField
from o2c.orders.units import UNIT_CHOICES
from o2c.parties.models import Customer, LegalEntity, validate_currency

QUANTITY_DIGITS = {"max_digits": 15, "decimal_places": 3}
ZERO = Decimal("0")


class TaxCategory(models.TextChoices):
    """Codes of the billing tax engine's categories; the engine finds the rate."""

    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"
    EXEMPT = "exempt", "Exempt"


class ProductKind(models.TextChoices):
    GOODS = "goods", "Goods"
    SERVICE = "service", "Service"


class Product(models.Model):
    """A good or service an entity sells, in one unit, with its tax category."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="products")
    code = models.CharField(max_length=40, help_text="The seller's item number.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=ProductKind.choices, default=ProductKind.GOODS)
    unit = models.CharField(
        max_length=3, choices=UNIT_CHOICES, default="EA", help_text="UN/ECE Rec 20 unit code."
    )
    tax_category = models.CharField(
        max_length=10, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )
    gtin = models.CharField(
        max_length=14, blank=True, help_text="Global Trade Item Number (EAN/UPC), if any."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["entity", "code"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "code"], name="product_code_per_entity")
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class CustomerGroup(models.Model):
    """Customers priced alike and, if a group limit is set, sharing one credit limit."""

    entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="customer_groups"
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["entity", "code"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "code"], name="customer_group_per_entity")
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class CustomerGroupMember(models.Model):
    """The one group a customer belongs to."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="group_membership"
    )
    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="members")

    def __str__(self):
        return f"{self.customer} in {self.group}"


class CustomerProductCode(models.Model):
    """A customer's own item number for one of our products, as it appears on its orders."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="product_codes")
    code = models.CharField(max_length=48)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="customer_codes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "code"], name="customer_product_code")
        ]

    def __str__(self):
        return f"{self.customer.number}:{self.code} → {self.product.code}"


class PriceList(models.Model):
    """Unit prices in one currency, for one customer group or (without a group) for all.

    A group's list wins over the general list of the same currency. Within a list, the
    item with the largest minimum quantity not above the ordered quantity applies.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="price_lists")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    customer_group = models.ForeignKey(
        CustomerGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_lists",
        help_text="Empty for the list that applies to every customer.",
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["entity", "code"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "code"], name="price_list_code_per_entity")
        ]

    def __str__(self):
        return f"{self.code} {self.name} ({self.currency})"


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="prices")
    min_quantity = models.DecimalField(
        **QUANTITY_DIGITS,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The price applies from this ordered quantity on.",
    )
    unit_price = MoneyField(help_text="Price of one unit, up to 4 decimals.")

    class Meta:
        ordering = ["price_list", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"], name="price_break_unique"
            )
        ]

    def __str__(self):
        return f"{self.product.code} from {self.min_quantity}: {self.unit_price}"


class OrderChannel(models.TextChoices):
    WEB = "web", "Web form"
    API = "api", "REST API"
    CSV = "csv", "CSV upload"
    EDI = "edi", "EDI X12 850"


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ON_CREDIT_HOLD = "on_credit_hold", "On credit hold"
    RELEASED = "released", "Released"
    PARTLY_FULFILLED = "partly_fulfilled", "Partly fulfilled"
    FULFILLED = "fulfilled", "Fulfilled"
    INVOICED = "invoiced", "Invoiced"
    CANCELLED = "cancelled", "Cancelled"


# Orders whose value not yet invoiced counts in the customer's credit exposure.
EXPOSURE_STATUSES = (
    OrderStatus.RELEASED,
    OrderStatus.PARTLY_FULFILLED,
    OrderStatus.FULFILLED,
)
OPEN_STATUSES = (
    OrderStatus.DRAFT,
    OrderStatus.SUBMITTED,
    OrderStatus.ON_CREDIT_HOLD,
    *EXPOSURE_STATUSES,
)


class Order(models.Model):
    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(max_length=20)
    channel = models.CharField(max_length=10, choices=OrderChannel.choices)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT, db_index=True
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    order_date = models.DateField()
    customer_reference = models.CharField(
        max_length=40, blank=True, help_text="The buyer's purchase order number."
    )
    requested_delivery_on = models.DateField(null=True, blank=True)
    notes = models.CharField(max_length=500, blank=True)
    net_amount = MoneyField(default=Decimal("0"), help_text="Sum of the line net amounts.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "number"], name="order_number_per_entity")
        ]
        indexes = [
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["customer", "customer_reference"]),
        ]

    def __str__(self):
        return f"Order {self.number}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(**QUANTITY_DIGITS)
    unit = models.CharField(max_length=3, help_text="UN/ECE Rec 20 unit code.")
    unit_price = MoneyField()
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    net_amount = MoneyField(help_text="Quantity × unit price less discount, rounded once.")
    tax_category = models.CharField(max_length=10, choices=TaxCategory.choices)
    buyer_line_reference = models.CharField(
        max_length=20, blank=True, help_text="The buyer's line number (EDI PO101)."
    )
    requested_on = models.DateField(null=True, blank=True)
    shipped_quantity = models.DecimalField(**QUANTITY_DIGITS, default=Decimal("0"))
    invoiced_quantity = models.DecimalField(**QUANTITY_DIGITS, default=Decimal("0"))
    invoiced_amount = MoneyField(default=Decimal("0"))

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_number"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="line_quantity_pos"),
            models.CheckConstraint(
                condition=models.Q(shipped_quantity__lte=models.F("quantity")),
                name="line_shipped_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(invoiced_quantity__lte=models.F("shipped_quantity")),
                name="line_invoiced_within_shipped",
            ),
        ]

    def __str__(self):
        return f"{self.order.number}/{self.line_number} {self.product.code}"

    @property
    def to_ship(self) -> Decimal:
        return self.quantity - self.shipped_quantity

    @property
    def to_invoice(self) -> Decimal:
        return self.shipped_quantity - self.invoiced_quantity


class OrderEvent(models.Model):
    """One step of an order's life: a status change, a shipment, an invoice, an edit."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    summary = models.CharField(max_length=500)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.order.number}: {self.summary}"


class OrderSequence(models.Model):
    """The next order number of an entity, taken under a row lock."""

    entity = models.OneToOneField(LegalEntity, on_delete=models.CASCADE, related_name="+")
    next_number = models.PositiveIntegerField(default=1)

    def __str__(self):
        return f"next order number {self.next_number}"


class Shipment(models.Model):
    """Goods or services delivered against an order on one day."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    shipped_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True, help_text="Delivery note number.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["shipped_on", "id"]

    def __str__(self):
        return f"Shipment {self.pk} of {self.order.number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipped")
    quantity = models.DecimalField(**QUANTITY_DIGITS)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="shipment_quantity_pos")
        ]

    def __str__(self):
        return f"{self.quantity} of order line {self.order_line_id}"


class OrderInvoice(models.Model):
    """A posted invoice made from an order's shipped, not yet invoiced quantities."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.PROTECT, related_name="order_link"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order.number} → invoice {self.invoice_id}"


class OrderInvoiceLine(models.Model):
    """How much of an order line one invoice billed, at the net the invoice computed."""

    order_invoice = models.ForeignKey(OrderInvoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="invoiced")
    invoice_position = models.PositiveIntegerField()
    quantity = models.DecimalField(**QUANTITY_DIGITS)
    net_amount = MoneyField()

    def __str__(self):
        return f"{self.quantity} of order line {self.order_line_id}"


class IdempotencyKey(models.Model):
    """An API create request stored by its key, so that a retry gets the first response.

    The body's hash separates a retry (same body) from a different request that reuses
    the key by mistake, which is rejected.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_sha256 = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self):
        return f"idempotency key {self.key}"


class TradingPartner(models.Model):
    """An EDI partner: the X12 interchange identity a customer sends its orders under."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="trading_partner"
    )
    interchange_qualifier = models.CharField(max_length=2, help_text="ISA05 of their files.")
    interchange_id = models.CharField(max_length=15, help_text="ISA06, without padding.")
    our_qualifier = models.CharField(max_length=2, help_text="ISA07 they address us with.")
    our_id = models.CharField(max_length=15, help_text="ISA08, without padding.")
    application_code = models.CharField(
        max_length=15, blank=True, help_text="GS02 they send; empty to accept any."
    )
    next_control_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["interchange_qualifier", "interchange_id", "our_id"],
                name="trading_partner_identity",
            )
        ]

    def __str__(self):
        return f"{self.interchange_qualifier}:{self.interchange_id} → {self.customer}"


class EdiInterchange(models.Model):
    """One X12 850 interchange received, with the 855 acknowledgment sent back."""

    partner = models.ForeignKey(
        TradingPartner, on_delete=models.PROTECT, null=True, blank=True, related_name="interchanges"
    )
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    control_number = models.CharField(max_length=9)
    received_at = models.DateTimeField(auto_now_add=True)
    accepted = models.BooleanField()
    problems = models.JSONField(default=list)
    orders = models.ManyToManyField(Order, related_name="edi_interchanges", blank=True)
    acknowledgment = models.TextField(help_text="The 855 sent back, as X12 text.")
    acknowledgment_control_number = models.PositiveIntegerField(null=True, blank=True)
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"interchange {self.control_number} ({self.file_name})"
