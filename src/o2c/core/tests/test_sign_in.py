"""Sign-in with a one-time password, which must be replaced before anything else."""

import pytest

from o2c.core.models import UserSettings


@pytest.fixture
def one_time_user(django_user_model):
    user = django_user_model.objects.create_user("new", password="Temp-12345-abcde")
    UserSettings.objects.create(user=user, must_change_password=True)
    return user


def test_one_time_password_forces_change(client, one_time_user):
    client.post("/accounts/login/", {"username": "new", "password": "Temp-12345-abcde"})

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"


def test_new_password_clears_the_flag(client, one_time_user):
    client.post("/accounts/login/", {"username": "new", "password": "Temp-12345-abcde"})

    client.post(
        "/accounts/password/",
        {
            "old_password": "Temp-12345-abcde",
            "new_password1": "Quiet-Harbor-2049",
            "new_password2": "Quiet-Harbor-2049",
        },
    )

    assert UserSettings.objects.get(user=one_time_user).must_change_password is False
    assert client.get("/").status_code == 200


def test_api_token_command_shows_token_once(one_time_user):
    from io import StringIO

    from django.core.management import call_command

    from o2c.core.models import ApiToken

    out = StringIO()
    call_command("token", "create", "new", "--name", "ERP", stdout=out)

    raw = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert raw.startswith("o2c_")
    assert token.token_hash != raw
    assert raw.startswith(token.prefix)


@pytest.mark.parametrize(
    "new_password", ["Temp-12345-abcde", "Temp-12345-abcde ", " Temp-12345-abcde\t"]
)
def test_one_time_password_cannot_be_kept(client, one_time_user, new_password):
    client.post("/accounts/login/", {"username": "new", "password": "Temp-12345-abcde"})

    response = client.post(
        "/accounts/password/",
        {
            "old_password": "Temp-12345-abcde",
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )

    assert response.status_code == 200
    assert "must differ" in response.content.decode()
    assert UserSettings.objects.get(user=one_time_user).must_change_password is True


def test_password_pages_use_the_product_layout(client, one_time_user):
    client.post("/accounts/login/", {"username": "new", "password": "Temp-12345-abcde"})

    form = client.get("/accounts/password/").content.decode()
    done = client.get("/accounts/password/done/").content.decode()

    assert "Choose your password" in form
    assert "Django administration" not in form
    assert "Django administration" not in done


def _sign_in(client, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": "new", "password": password}, REMOTE_ADDR=ip
    )


def test_failed_sign_ins_are_limited(client, one_time_user):
    for _ in range(5):
        assert _sign_in(client, "wrong-guess").status_code == 200

    response = _sign_in(client, "Temp-12345-abcde")

    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_guesses_elsewhere_do_not_lock_the_owner_out(client, one_time_user):
    for _ in range(5):
        _sign_in(client, "wrong-guess", ip="10.0.0.1")

    response = _sign_in(client, "Temp-12345-abcde", ip="10.0.0.2")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(one_time_user.pk)


def test_pages_carry_a_content_security_policy(client, one_time_user):
    response = client.get("/accounts/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_admin_sign_in_is_limited_too(client, one_time_user):
    one_time_user.is_staff = True
    one_time_user.save()
    for _ in range(5):
        client.post(
            "/admin/login/", {"username": "new", "password": "wrong-guess"}, REMOTE_ADDR="10.0.0.1"
        )

    response = client.post(
        "/admin/login/",
        {"username": "new", "password": "Temp-12345-abcde"},
        REMOTE_ADDR="10.0.0.1",
    )

    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()


def test_colleagues_failures_do_not_lock_a_known_address(client, one_time_user):
    # given the owner signed in from the office address before
    assert _sign_in(client, "Temp-12345-abcde", ip="10.0.0.9").status_code == 302
    client.logout()

    # when 30 failures for other names come from the same address
    for index in range(30):
        client.post(
            "/accounts/login/",
            {"username": f"someone{index}", "password": "wrong"},
            REMOTE_ADDR="10.0.0.9",
        )
    stranger = client.post(
        "/accounts/login/", {"username": "other", "password": "x"}, REMOTE_ADDR="10.0.0.9"
    )
    owner = _sign_in(client, "Temp-12345-abcde", ip="10.0.0.9")

    # then new names from there are held back, and the owner still signs in
    assert "Too many failed sign-ins" in stranger.content.decode()
    assert owner.status_code == 302
