"""The Web3Forms client against both documented response shapes (``responses``)."""

from __future__ import annotations

import pytest
import responses

from app.services.web3forms import Web3FormsClient, Web3FormsError, build_web3forms

URL = "https://api.web3forms.com/submit"


@pytest.fixture
def client():
    return Web3FormsClient(access_key="key", url=URL)


@pytest.mark.parametrize(
    "answer",
    [
        {"success": True, "message": "Email sent successfully!", "data": {}},
        {
            "statusCode": 200,
            "success": True,
            "body": {"data": {}, "message": "Email sent successfully!"},
        },
    ],
    ids=["flat", "nested"],
)
@responses.activate
def test_both_success_shapes_are_accepted(client, answer):
    responses.post(URL, json=answer)
    assert client.submit({"access_key": "key"}) == "Email sent successfully!"


@responses.activate
def test_a_refusal_carries_web3forms_message_and_status(client):
    responses.post(URL, status=400, json={"success": False, "message": "Invalid access key"})

    with pytest.raises(Web3FormsError) as refused:
        client.submit({"access_key": "key"})

    assert "Invalid access key" in refused.value.message
    assert refused.value.details == {"provider": "WEB3FORMS", "http_status": 400}


def test_empty_extra_fields_are_left_out_and_botcheck_stays_empty(client):
    body = client.body(
        name="A", email="a@example.co.ke", subject="S", message="M", from_name="F", phone=""
    )
    assert "phone" not in body
    assert body["botcheck"] == ""


def test_without_an_access_key_there_is_no_client():
    assert build_web3forms({"WEB3FORMS_ACCESS_KEY": None, "WEB3FORMS_URL": URL}) is None
    assert build_web3forms({"WEB3FORMS_ACCESS_KEY": "k", "WEB3FORMS_URL": URL}).url == URL
