"""Receivers: a payment applied to a promised invoice settles the promise at once."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from o2c.ledger.models import Allocation


@receiver(post_save, sender=Allocation, dispatch_uid="collections_review_promises")
def review_promises_on_payment(sender, instance: Allocation, created: bool, **kwargs):
    if not created or instance.amount <= 0:
        return
    from o2c.collections.models import PromiseStatus, PromiseToPay
    from o2c.collections.services import review_promises

    if PromiseToPay.objects.filter(
        customer_id=instance.customer_id, status=PromiseStatus.OPEN
    ).exists():
        customer_id = instance.customer_id
        transaction.on_commit(lambda: review_promises(customer_ids=[customer_id]), robust=True)
