"""A dunning run over the IBM late-payment history, sent to a local SMTP server."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command

from o2c.collections.models import DunningNotice, DunningNoticeItem, StepChannel
from o2c.collections.services import run_dunning
from o2c.disputes.models import Dispute, DisputeStatus
from o2c.imports.services import import_receivables
from o2c.ledger.models import Document
from o2c.ledger.services import open_amount
from o2c.parties.models import Contact, Customer, LegalEntity
from o2c.paths import SHIPPED_DATA_DIR

IBM_FILE = SHIPPED_DATA_DIR / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"
AS_OF = dt.date(2013, 6, 30)
LANGUAGES = ["en", "fr", "de", "es"]
# A word each language's reminder subject always contains.
SUBJECT_WORDS = {
    "en": ("due to",),
    "fr": ("dus à",),
    "de": (" an ",),
    "es": ("adeudados",),
}


@pytest.fixture
def ibm_entity(db, make_strategy):
    import_receivables(Path(IBM_FILE), "ibm-late-payment")
    entity = LegalEntity.objects.get(code="LPH")
    make_strategy(entity)
    for index, customer in enumerate(Customer.objects.filter(entity=entity).order_by("number")):
        language = LANGUAGES[index % 4]
        Customer.objects.filter(pk=customer.pk).update(language=language)
        Contact.objects.create(
            customer=customer,
            name=f"AP desk {customer.number}",
            email=f"ap-{customer.number.lower()}@example.test",
            role="collections",
            language=language,
        )
    return entity


@pytest.mark.slow
def test_dunning_run_real_data_sends_once(
    ibm_entity, smtp_inbox, django_capture_on_commit_callbacks
):
    # given an invoice that the run would remind, now disputed in full
    plan = run_dunning(ibm_entity, AS_OF, preview=True)
    email_notices = [notice for notice in plan.notices if notice.channel == StepChannel.EMAIL]
    assert len(email_notices) >= 4
    target = email_notices[0].items[0].document
    Dispute.objects.create(
        entity=ibm_entity,
        customer=target.customer,
        invoice=target,
        amount=open_amount(target, AS_OF),
        currency=target.currency,
        reason="pricing",
        status=DisputeStatus.OPEN,
        opened_on=dt.date(2013, 6, 1),
    )

    # when the run is previewed, then executed
    preview = run_dunning(ibm_entity, AS_OF, preview=True)
    planned_numbers = {item.document.number for n in preview.notices for item in n.items}
    with django_capture_on_commit_callbacks(execute=True):
        run = run_dunning(ibm_entity, AS_OF, source="test")

    # then the preview wrote nothing, and the run sent what it previewed
    assert target.number not in planned_numbers
    assert any(skip["document"].pk == target.pk for skip in preview.skipped)
    sent = DunningNotice.objects.filter(run=run, channel=StepChannel.EMAIL)
    assert sent.count() == len([n for n in preview.notices if n.channel == StepChannel.EMAIL])
    assert set(sent.values_list("status", flat=True)) == {"sent"}
    assert len(smtp_inbox.messages) == sent.count()
    languages_seen = set()
    for message in smtp_inbox.messages:
        notice = sent.get(message_id=message["Message-ID"])
        customer = notice.customer
        assert message["To"] == f"ap-{customer.number.lower()}@example.test"
        assert message["Content-Language"] == customer.language
        assert any(word in message["Subject"] for word in SUBJECT_WORDS[customer.language])
        body = message.get_content()
        assert customer.number in body
        for item in notice.items.all():
            assert item.document.number in body
            assert item.document.due_date.isoformat() in body
        assert "RF" in body
        assert target.number not in body
        languages_seen.add(customer.language)
    assert len(languages_seen) >= 3
    assert not DunningNoticeItem.objects.filter(document=target).exists()

    # and a second run the same day sends nothing new
    with django_capture_on_commit_callbacks(execute=True):
        second = run_dunning(ibm_entity, AS_OF, source="test")
    assert second.notices.count() == 0
    assert len(smtp_inbox.messages) == sent.count()


@pytest.mark.slow
def test_dunning_command_previews_then_runs(ibm_entity, smtp_inbox, capsys):
    # when the command previews, nothing is written
    call_command("dunning", "run", "--as-of", AS_OF.isoformat(), "--entity", "LPH", "--preview")
    preview_output = capsys.readouterr().out
    assert "LPH preview as of 2013-06-30" in preview_output
    assert DunningNotice.objects.count() == 0

    # when it runs, the e-mails go out; a second run adds nothing
    call_command("dunning", "run", "--as-of", AS_OF.isoformat(), "--entity", "LPH")
    first_count = len(smtp_inbox.messages)
    assert first_count == DunningNotice.objects.filter(channel=StepChannel.EMAIL).count() > 0
    call_command("dunning", "run", "--as-of", AS_OF.isoformat(), "--entity", "LPH")
    assert len(smtp_inbox.messages) == first_count
    assert Document.objects.filter(kind="charge").count() == 0
