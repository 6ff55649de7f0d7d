"""Signing in to the portal: links by e-mail, rate limits, passwords, separate sessions."""

import re

import pytest
import time_machine
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from o2c.core.models import ApiToken
from o2c.portal import auth
from o2c.portal.models import PortalLink, PortalSession, PortalUser

pytestmark = pytest.mark.django_db(transaction=False)

LINK = re.compile(r"http://testserver(/portal/link/[^/\s]+/)")


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.O2C_PUBLIC_URL = "http://testserver"


def request_link(client, email, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("portal:sign_in"), {"action": "link", "email": email, **extra})


def link_in(inbox, address) -> str:
    messages = inbox.to(address)
    assert messages, f"no message to {address}"
    return LINK.search(messages[-1]).group(1)


def signed_in(client, buyer, smtp_server, capture):
    request_link(client, buyer.contacts.get().email, capture)
    path = link_in(smtp_server, buyer.contacts.get().email)
    client.post(path)
    return client


def test_link_by_email_signs_in(client, buyer, smtp_server, django_capture_on_commit_callbacks):
    # given a billing contact of the customer
    email = "compta@boulangerie-martin.example"

    # when they ask for a link
    response = request_link(client, email.upper(), django_capture_on_commit_callbacks)

    # then the neutral page shows and a French e-mail carries a link
    assert response.status_code == 200
    assert b"If this address belongs" in response.content  # the page is in English
    message = smtp_server.to(email)[0]
    assert "Subject: Votre lien de connexion chez Atelier Lumière SAS" in message
    path = link_in(smtp_server, email)

    # when the link is opened: the GET only shows a button, since mail scanners fetch links
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert "Continuer vers le compte de Boulangerie Martin" in confirm.content.decode()
    assert PortalLink.objects.get().used_at is None

    # and the POST signs in, with a cookie limited to the portal
    opened = client.post(path)
    assert opened.status_code == 302
    assert opened.url == reverse("portal:home")
    cookie = opened.cookies[auth.COOKIE_NAME]
    assert cookie["path"] == "/portal/"
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert "Compte de Boulangerie Martin" in home.content.decode()


def test_link_works_once(client, buyer, smtp_server, django_capture_on_commit_callbacks):
    request_link(client, "compta@boulangerie-martin.example", django_capture_on_commit_callbacks)
    path = link_in(smtp_server, "compta@boulangerie-martin.example")
    client.post(path)

    again = client.post(path)

    assert again.status_code == 410
    assert PortalSession.objects.count() == 1


def test_link_expires_after_thirty_minutes(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    with time_machine.travel("2025-03-10 09:00:00+00:00", tick=False):
        request_link(
            client, "compta@boulangerie-martin.example", django_capture_on_commit_callbacks
        )
    path = link_in(smtp_server, "compta@boulangerie-martin.example")

    with time_machine.travel("2025-03-10 09:31:00+00:00", tick=False):
        response = client.post(path)

    assert response.status_code == 410


def test_tampered_or_foreign_token_is_refused(client, buyer):
    user = PortalUser.objects.create(customer=buyer, email="compta@boulangerie-martin.example")
    token = auth.issue_link(user, source="request")
    link_id = signing.loads(token, salt="o2c.portal.link.sign_in")["l"]
    guessed_secret = signing.dumps({"l": link_id, "s": "guess"}, salt="o2c.portal.link.sign_in")
    other_purpose = signing.dumps(
        signing.loads(token, salt="o2c.portal.link.sign_in"), salt="o2c.portal.link.reset"
    )

    assert client.post(f"/portal/link/{token[:-2]}xx/").status_code == 410
    assert client.post(f"/portal/link/{guessed_secret}/").status_code == 410
    assert client.post(f"/portal/link/{other_purpose}/").status_code == 410
    assert client.post(f"/portal/link/{token}/").status_code == 302


def test_unknown_address_gets_the_same_answer(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    known = request_link(
        client, "compta@boulangerie-martin.example", django_capture_on_commit_callbacks
    )
    unknown = request_link(client, "nobody@example.org", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 200
    token = re.compile(rb'"X-CSRFToken": "[^"]+"')
    assert token.sub(b"", known.content) == token.sub(b"", unknown.content)
    assert smtp_server.to("nobody@example.org") == []
    assert not PortalUser.objects.filter(email="nobody@example.org").exists()


def test_link_requests_are_limited_per_address(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    for _ in range(5):
        response = request_link(
            client, "compta@boulangerie-martin.example", django_capture_on_commit_callbacks
        )
        assert response.status_code == 200

    # three links were sent, and the page gave no reason for the others
    assert len(smtp_server.to("compta@boulangerie-martin.example")) == 3


def test_link_requests_are_limited_per_network(client, buyer, django_capture_on_commit_callbacks):
    for index in range(auth.LINK_REQUESTS_PER_NETWORK):
        request_link(client, f"person{index}@example.org", django_capture_on_commit_callbacks)

    response = request_link(client, "one-more@example.org", django_capture_on_commit_callbacks)

    assert response.status_code == 429


def test_contact_of_two_customers_gets_two_scoped_links(
    client, buyer, other_buyer, smtp_server, django_capture_on_commit_callbacks
):
    # given a person who is a contact of both customers
    other_buyer.contacts.update(email="compta@boulangerie-martin.example")

    # when they ask for a link
    request_link(client, "compta@boulangerie-martin.example", django_capture_on_commit_callbacks)

    # then they get one link per customer, each opening only that customer
    messages = smtp_server.to("compta@boulangerie-martin.example")
    assert len(messages) == 2
    assert {user.customer_id for user in PortalUser.objects.all()} == {buyer.pk, other_buyer.pk}


def test_password_sign_in(client, buyer):
    user = PortalUser.objects.create(customer=buyer, email="compta@boulangerie-martin.example")
    user.set_password("a long portal passphrase")
    user.save()

    wrong = client.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": user.email, "password": "nope"},
    )
    right = client.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": user.email, "password": "a long portal passphrase"},
    )

    assert wrong.status_code == 400
    assert right.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200


def test_password_attempts_are_limited(client, buyer):
    user = PortalUser.objects.create(customer=buyer, email="compta@boulangerie-martin.example")
    user.set_password("a long portal passphrase")
    user.save()
    for _ in range(auth.PASSWORD_FAILURES_PER_ADDRESS_AND_NETWORK):
        client.post(
            reverse("portal:sign_in"),
            {"action": "password", "email": user.email, "password": "guess"},
        )

    locked = client.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": user.email, "password": "a long portal passphrase"},
    )

    assert locked.status_code == 429


def test_session_ends_after_idle_time(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    with time_machine.travel("2025-03-10 09:00:00+00:00", tick=False):
        signed_in(client, buyer, smtp_server, django_capture_on_commit_callbacks)
    with time_machine.travel("2025-03-10 11:01:00+00:00", tick=False):
        response = client.get(reverse("portal:home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:sign_in"))


def test_sign_out_ends_the_session(client, buyer, smtp_server, django_capture_on_commit_callbacks):
    signed_in(client, buyer, smtp_server, django_capture_on_commit_callbacks)

    client.post(reverse("portal:sign_out"))

    assert client.get(reverse("portal:home")).status_code == 302
    assert PortalSession.objects.get().ended_at is not None


def test_portal_session_denied_staff_pages(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    # given a signed-in portal user whose browser would send its cookie everywhere
    signed_in(client, buyer, smtp_server, django_capture_on_commit_callbacks)
    client.cookies[auth.COOKIE_NAME]["path"] = "/"

    # when it requests staff pages and the API
    staff_pages = [
        "/",
        f"/customers/{buyer.pk}/",
        "/billing/",
        "/payments/",
        "/collections/",
        "/disputes/",
        "/webhooks/",
        "/admin/",
    ]
    responses = {path: client.get(path) for path in staff_pages}
    api = client.get(f"/api/customers/{buyer.pk}")

    # then staff pages redirect to the staff sign-in and the API returns 401
    for path, response in responses.items():
        assert response.status_code == 302, path
        assert "/login/" in response.url, path
    assert api.status_code == 401


def test_staff_sign_in_does_not_open_the_portal(client, buyer, make_user):
    staff = make_user("clerk", entity=buyer.entity, role="admin")
    client.force_login(staff)
    ApiToken.issue(staff, "x")

    response = client.get(reverse("portal:home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:sign_in"))


def test_next_page_must_be_a_portal_page(client, buyer):
    user = PortalUser.objects.create(customer=buyer, email="compta@boulangerie-martin.example")
    outside = auth.issue_link(user, source="staff", next_path="https://evil.example/")
    inside = auth.issue_link(user, source="staff", next_path="/portal/statement/")

    assert client.post(f"/portal/link/{outside}/").url == reverse("portal:home")
    assert client.post(f"/portal/link/{inside}/").url == "/portal/statement/"


def test_deactivated_portal_user_is_signed_out(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    signed_in(client, buyer, smtp_server, django_capture_on_commit_callbacks)

    PortalUser.objects.update(is_active=False)

    assert client.get(reverse("portal:home")).status_code == 302


def test_command_prints_a_link_per_account(client, buyer, other_buyer, capsys):
    from django.core.management import call_command

    other_buyer.contacts.update(email="compta@boulangerie-martin.example")

    call_command("portal", "link", "compta@boulangerie-martin.example", "--customer", "C0002")

    output = capsys.readouterr().out
    assert output.startswith("C0002 Müller Maschinenbau GmbH: http://testserver/portal/link/")
    path = LINK.search(output).group(1)
    assert client.post(path).status_code == 302
    assert PortalSession.objects.get().portal_user.customer == other_buyer


def test_replaced_billing_address_loses_access(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    # given the billing contact signed in, with a password and a mailed 14-day link
    old = "compta@boulangerie-martin.example"
    signed_in(client, buyer, smtp_server, django_capture_on_commit_callbacks)
    user = PortalUser.objects.get(email=old)
    user.set_password("a long portal passphrase")
    user.wants_monthly_statement = True
    user.save()
    mailed = auth.issue_link(user, source="receipt", lifetime=auth.MAILED_LINK_LIFETIME)
    other_browser = Client()
    assert other_browser.post(f"/portal/link/{auth.issue_link(user, source='staff')}/").url

    # when they replace the billing address with a new one
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:account"),
            {"action": "contact", "name": "Claire Martin", "email": "claire@martin.example"},
        )

    # then this browser and the other one are signed out
    assert response.status_code == 302
    assert response.url == reverse("portal:sign_in")
    assert client.get(reverse("portal:home")).status_code == 302
    assert other_browser.get(reverse("portal:home")).status_code == 302
    assert not PortalSession.objects.filter(ended_at__isnull=True).exists()
    # and the old address gets a notice in French, without a sign-in link
    notice = smtp_server.to(old)[-1]
    assert "Le contact de facturation de Boulangerie Martin a été modifié" in notice
    assert "/portal/link/" not in notice
    # and it can no longer sign in, with a link, the mailed link or the password
    mails_before = len(smtp_server.to(old))
    request_link(client, old, django_capture_on_commit_callbacks)
    assert len(smtp_server.to(old)) == mails_before
    assert client.post(f"/portal/link/{mailed}/").status_code == 410
    password = client.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": old, "password": "a long portal passphrase"},
    )
    assert password.status_code == 400
    # and account mail goes to the new address only
    from o2c.portal.notify import billing_recipients

    recipients = billing_recipients(buyer, preference="wants_monthly_statement")
    assert [recipient.email for recipient in recipients] == []
    assert [recipient.email for recipient in billing_recipients(buyer)] == ["claire@martin.example"]


def test_address_removed_by_staff_ends_session(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    from o2c.portal.mail import send_message

    signed_in(client, buyer, smtp_server, django_capture_on_commit_callbacks)
    user = PortalUser.objects.get()

    buyer.contacts.update(email="nouvelle@boulangerie-martin.example")

    assert client.get(reverse("portal:home")).status_code == 302
    assert PortalSession.objects.get().ended_at is not None
    assert send_message(user, "Statement", "Your account: ...") is False
    assert smtp_server.to(user.email)[-1].count("/portal/link/") == 1  # only the first link


def test_account_chooser_keeps_no_password(client, buyer, other_buyer):
    # given a person with the same address and password at two customers
    other_buyer.contacts.update(email="compta@boulangerie-martin.example")
    for customer in (buyer, other_buyer):
        user = PortalUser.objects.create(
            customer=customer, email="compta@boulangerie-martin.example"
        )
        user.set_password("Shared-Pass-2026!")
        user.save()

    # when they sign in with the password
    chooser = client.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": user.email, "password": "Shared-Pass-2026!"},
    )

    # then the chooser page neither contains the password nor may be stored
    page = chooser.content.decode()
    assert chooser.status_code == 200
    assert "Shared-Pass-2026!" not in page
    assert "no-store" in chooser["Cache-Control"]
    choice = re.search(r'name="choice" value="([^"]+)"', page).group(1)
    # and the signed choice works in this browser only, and once
    chosen = {"action": "choose", "choice": choice, "account": str(user.pk)}
    assert Client().post(reverse("portal:sign_in"), chosen).status_code == 400
    signed = client.post(reverse("portal:sign_in"), chosen)
    assert signed.status_code == 302
    assert PortalSession.objects.get().portal_user == user
    assert client.post(reverse("portal:sign_in"), chosen).status_code == 400


def test_account_choice_expires_with_password_change(client, buyer, other_buyer):
    other_buyer.contacts.update(email="compta@boulangerie-martin.example")
    for customer in (buyer, other_buyer):
        user = PortalUser.objects.create(
            customer=customer, email="compta@boulangerie-martin.example"
        )
        user.set_password("Shared-Pass-2026!")
        user.save()
    chooser = client.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": user.email, "password": "Shared-Pass-2026!"},
    )
    choice = re.search(r'name="choice" value="([^"]+)"', chooser.content.decode()).group(1)

    user.set_password("Another-Pass-2026!")
    user.save()
    response = client.post(
        reverse("portal:sign_in"), {"action": "choose", "choice": choice, "account": user.pk}
    )

    assert response.status_code == 400
    assert not PortalSession.objects.exists()


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", "", "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # peer is no proxy: header ignored
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.5", "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # left part forged
        ("10.0.0.5", "10.0.0.8, 10.0.0.9", "10.0.0.8"),  # only proxies
        ("10.0.0.5", "198.51.100.1, garbage", "10.0.0.5"),
        ("10.0.0.5", "", "10.0.0.5"),
        ("::ffff:10.0.0.5", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_behind_trusted_proxies(settings, rf, peer, forwarded, expected):
    settings.O2C_TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = rf.get("/portal/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert auth.client_ip(request) == expected


def test_invalid_trusted_proxy_is_reported(settings, rf):
    settings.O2C_TRUSTED_PROXIES = ["10.0.0.0/33"]

    with pytest.raises(ImproperlyConfigured, match="10.0.0.0/33"):
        auth.client_ip(rf.get("/portal/"))


def test_customers_behind_proxy_counted_apart(client, buyer, settings):
    settings.O2C_TRUSTED_PROXIES = ["127.0.0.1"]

    for index in range(auth.LINK_REQUESTS_PER_NETWORK + 5):
        response = client.post(
            reverse("portal:sign_in"),
            {"action": "link", "email": f"person{index}@example.org"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{index + 1}",
        )
        assert response.status_code == 200, index
    proxied = client.post(
        reverse("portal:sign_in"),
        {"action": "link", "email": "one-more@example.org"},
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert proxied.status_code == 200


def test_stranger_cannot_stop_links_from_known_network(
    client, buyer, smtp_server, django_capture_on_commit_callbacks
):
    # given the customer signed in from their office once
    address = "compta@boulangerie-martin.example"
    office = {"REMOTE_ADDR": "198.51.100.20"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:sign_in"), {"action": "link", "email": address}, **office)
    client.post(link_in(smtp_server, address), **office)
    mails = len(smtp_server.to(address))

    # when strangers on many networks ask for links to that address
    for index in range(auth.LINK_MAILS_PER_ADDRESS + 5):
        with django_capture_on_commit_callbacks(execute=True):
            stranger = Client(REMOTE_ADDR=f"203.0.113.{index + 1}")
            response = stranger.post(
                reverse("portal:sign_in"), {"action": "link", "email": address}
            )
        assert response.status_code == 200

    # then the mailbox got at most the hourly number, and the office still gets a link
    assert len(smtp_server.to(address)) - mails == auth.LINK_MAILS_PER_ADDRESS - 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:sign_in"), {"action": "link", "email": address}, **office)
    assert len(smtp_server.to(address)) - mails == auth.LINK_MAILS_PER_ADDRESS


def test_failures_elsewhere_do_not_block_right_password(client, buyer):
    user = PortalUser.objects.create(customer=buyer, email="compta@boulangerie-martin.example")
    user.set_password("a long portal passphrase")
    user.save()
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(auth.PASSWORD_FAILURES_PER_ADDRESS_AND_NETWORK + 2):
        stranger.post(
            reverse("portal:sign_in"),
            {"action": "password", "email": user.email, "password": "guess"},
        )

    locked = stranger.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": user.email, "password": "a long portal passphrase"},
    )
    right = client.post(
        reverse("portal:sign_in"),
        {"action": "password", "email": user.email, "password": "a long portal passphrase"},
        REMOTE_ADDR="198.51.100.20",
    )

    assert locked.status_code == 429
    assert right.status_code == 302
