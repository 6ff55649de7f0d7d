"""Catalogue look-ups: which product an order line names, and what it costs.

Both take many lines at once, so validating an order costs a fixed number of queries
whatever its length.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q

from o2c.orders.models import CustomerGroupMember, CustomerProductCode, PriceListItem, Product
from o2c.parties.models import Customer


class ProductIndex:
    """The products an order's lines may name, by our code, the buyer's code or GTIN."""

    def __init__(self, customer: Customer, codes, buyer_codes, gtins):
        products = Product.objects.filter(entity_id=customer.entity_id).filter(
            Q(code__in=set(codes)) | Q(gtin__in=set(gtins) - {""})
        )
        self.by_code = {}
        self.by_gtin = {}
        for product in products:
            self.by_code[product.code] = product
            if product.gtin:
                self.by_gtin[product.gtin] = product
        self.by_buyer_code = {
            item.code: item.product
            for item in CustomerProductCode.objects.filter(
                customer=customer, code__in=set(buyer_codes)
            ).select_related("product")
        }

    def find(self, code: str = "", buyer_code: str = "", gtin: str = "") -> Product | None:
        if code and code in self.by_code:
            return self.by_code[code]
        if buyer_code and buyer_code in self.by_buyer_code:
            return self.by_buyer_code[buyer_code]
        if gtin and gtin in self.by_gtin:
            return self.by_gtin[gtin]
        return None


class PriceBook:
    """Unit prices of some products for one customer, currency and date.

    A price list for the customer's group wins over a general list. Among lists of the
    same kind, the one valid from the latest date wins. Within the chosen list, the price
    break with the largest minimum quantity not above the ordered quantity applies.
    """

    def __init__(self, customer: Customer, currency: str, on: dt.date, product_ids):
        group_id = (
            CustomerGroupMember.objects.filter(customer=customer)
            .values_list("group_id", flat=True)
            .first()
        )
        items = (
            PriceListItem.objects.filter(
                price_list__entity_id=customer.entity_id,
                price_list__currency=currency,
                price_list__is_active=True,
                product_id__in=set(product_ids),
            )
            .filter(Q(price_list__valid_from__isnull=True) | Q(price_list__valid_from__lte=on))
            .filter(Q(price_list__valid_until__isnull=True) | Q(price_list__valid_until__gte=on))
            .filter(
                Q(price_list__customer_group__isnull=True)
                | Q(price_list__customer_group_id=group_id)
            )
            .values(
                "product_id",
                "min_quantity",
                "unit_price",
                "price_list_id",
                "price_list__customer_group_id",
                "price_list__valid_from",
            )
        )
        by_list: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        rank: dict[int, tuple] = {}
        for item in items:
            list_id = item["price_list_id"]
            by_list[list_id][item["product_id"]].append((item["min_quantity"], item["unit_price"]))
            rank[list_id] = (
                item["price_list__customer_group_id"] is not None,
                item["price_list__valid_from"] or dt.date.min,
                list_id,
            )
        self._lists = [by_list[list_id] for list_id in sorted(rank, key=rank.get, reverse=True)]

    def unit_price(self, product_id: int, quantity: Decimal) -> Decimal | None:
        for prices in self._lists:
            breaks = prices.get(product_id)
            if not breaks:
                continue
            applicable = [entry for entry in breaks if entry[0] <= quantity]
            if not applicable:
                return None
            return max(applicable, key=lambda entry: entry[0])[1]
        return None
