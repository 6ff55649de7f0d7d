"""Fixtures for collections tests: a local SMTP server and a default dunning strategy."""

import threading

import pytest


class _Inbox:
    """Collects every message the local SMTP server receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted"


@pytest.fixture
def smtp_inbox(local_smtp):
    """Run an SMTP server on 127.0.0.1 and point Django's e-mail at it."""
    return local_smtp(_Inbox())


STEPS = [
    ("Friendly reminder", -3, "email", "", "friendly"),
    ("First reminder", 7, "email", "", "first"),
    ("Call", 15, "call", "", "first"),
    ("Final notice", 30, "email", "", "final"),
    ("Hold new orders", 45, "action", "hold_orders", "final"),
]


@pytest.fixture
def make_strategy(db):
    from o2c.collections.models import DunningStep, DunningStrategy

    def make(entity, segment="", steps=STEPS):
        strategy = DunningStrategy.objects.create(entity=entity, name="Standard", segment=segment)
        for sequence, (name, days, channel, action, tone) in enumerate(steps, start=1):
            DunningStep.objects.create(
                strategy=strategy,
                sequence=sequence,
                name=name,
                days_after_due=days,
                channel=channel,
                action=action,
                tone=tone,
            )
        return strategy

    return make


@pytest.fixture
def contact(db):
    from o2c.parties.models import Contact

    def make(customer, language="en", email=None):
        return Contact.objects.create(
            customer=customer,
            name=f"Accounts payable {customer.number}",
            email=email or f"ap-{customer.number.lower()}@example.test",
            role="collections",
            language=language,
            is_primary=True,
        )

    return make
