"""Reads of predictions, scores and models that apply the person's scope."""

from django.db.models import OuterRef, Subquery
from django.http import Http404

from o2c.insights.models import CustomerScore, InvoicePrediction, ModelVersion
from o2c.ledger.models import DEBIT_KINDS, Document
from o2c.ledger.selectors import open_documents
from o2c.parties.models import LegalEntity
from o2c.teams.selectors import led_entities, visible_customers, visible_entities


def document_for(user, document_id: int) -> Document:
    """Return a debit document of a customer the person may see; otherwise raise 404."""
    document = (
        Document.objects.filter(
            pk=document_id, kind__in=DEBIT_KINDS, customer__in=visible_customers(user)
        )
        .select_related("customer", "entity")
        .first()
    )
    if document is None:
        raise Http404("No such invoice.")
    return document


def led_entity(user, code: str | None = None) -> LegalEntity:
    """Return an entity the person leads (the first one without `code`); otherwise 404."""
    entities = led_entities(user).order_by("code")
    entity = entities.filter(code=code).first() if code else entities.first()
    if entity is None:
        raise Http404("No such entity.")
    return entity


def flagged_scores(user, limit: int = 200):
    """Return the flagged scores that are still their customer's latest, for the customers
    the person may see. A flag ends when a newer score replaces it."""
    latest_day = (
        CustomerScore.objects.filter(customer=OuterRef("customer"))
        .order_by("-scored_on")
        .values("scored_on")[:1]
    )
    return (
        CustomerScore.objects.filter(flagged=True, customer__in=visible_customers(user))
        .filter(scored_on=Subquery(latest_day))
        .select_related("customer", "entity")
        .order_by("-scored_on", "score")[:limit]
    )


def latest_score(customer) -> CustomerScore | None:
    return CustomerScore.objects.filter(customer=customer).order_by("-scored_on").first()


def score_history(customer, limit: int = 12):
    return list(CustomerScore.objects.filter(customer=customer).order_by("-scored_on")[:limit])


def customer_predictions(customer, limit: int = 100):
    """Return the predictions of the customer's invoices that are still open.

    Predictions are refreshed by the nightly rescore, so an invoice paid since then
    still has one. It is left out here rather than shown as open.
    """
    still_open = open_documents(Document.objects.filter(customer=customer)).values("pk")
    return list(
        InvoicePrediction.objects.filter(customer=customer, document_id__in=still_open)
        .select_related("document")
        .order_by("pay_on", "document_id")[:limit]
    )


def versions_for(user):
    return ModelVersion.objects.filter(entity__in=led_entities(user)).select_related("entity")


def entities_for(user):
    return visible_entities(user)
