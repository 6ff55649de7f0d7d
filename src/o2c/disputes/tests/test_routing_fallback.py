"""Open disputes without a team get one once the entity has a disputes team."""

from o2c.disputes.models import Dispute
from o2c.disputes.routing import route_unrouted_disputes
from o2c.disputes.services import open_dispute


def test_unrouted_open_disputes_are_routed(entity, customer, post, make_user):
    invoice = post(customer, "invoice", "INV-1", "2025-03-01", "100.00")
    dispute = open_dispute(customer, lines=[(invoice, "10.00", "")], reason="pricing", actor=None)[
        0
    ]
    Dispute.objects.filter(pk=dispute.pk).update(team=None)
    make_user("dana", entity=entity, role="member", function="disputes")

    routed = route_unrouted_disputes(entity)

    dispute.refresh_from_db()
    assert routed == 1
    assert dispute.team.function == "disputes"
