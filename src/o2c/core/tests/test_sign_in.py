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
