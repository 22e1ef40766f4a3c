"""The pure rules of webhooks: allowed URLs, the message and its Standard Webhooks signature."""

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from lectern.events.rules import LoggedEvent
from lectern.models.base import utcnow
from lectern.webhooks import rules


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.edu/x", "https://8.8.8.8:8443/hooks?key=1", "https://[2606:4700::1]/h"],
)
def test_https_urls_are_taken(url: str) -> None:
    assert rules.check_url(url, allow_loopback_http=False) == url


@pytest.mark.parametrize("url", ["https://10.0.0.5:8443/hooks?key=1", "https://[::1]/h"])
def test_private_addresses_are_taken_only_where_private_networks_are_allowed(url: str) -> None:
    with pytest.raises(rules.RefusedUrl, match="public address"):
        rules.check_url(url, allow_loopback_http=False)
    assert rules.check_url(url, allow_loopback_http=False, private_networks=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.edu/x",
        "http://127.0.0.1:8000/h",
        "https://",
        "mailto:someone@example.edu",
        "https://a@example.edu/",
        "https://example.edu/#top",
        "https://example.edu:0/",
        "https://example.edu:70000/",
        "https://a b/",
        "https://%/",
        "https://a..b/",
        "https://-a.example.edu/",
        "https://xn--/",
        "https://\u00e9cole.example/",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(rules.RefusedUrl):
        rules.check_url(url, allow_loopback_http=False)


def test_plain_http_only_to_127_0_0_1_and_only_when_allowed() -> None:
    assert rules.check_url("http://127.0.0.1:8000/h", allow_loopback_http=True)
    for url in ("http://localhost:8000/h", "http://127.0.0.2/h", "http://10.0.0.1/h"):
        with pytest.raises(rules.RefusedUrl):
            rules.check_url(url, allow_loopback_http=True)


def test_unknown_event_types_are_named() -> None:
    assert rules.unknown_types(["course.created", "course.exploded", "x"]) == [
        "course.exploded",
        "x",
    ]


def test_a_message_is_its_events_type_time_and_payload_signed_for_its_receiver() -> None:
    created = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    event = LoggedEvent(
        id=41,
        type="course.created",
        institution_id=1,
        user_id=None,
        audience="admins",
        payload={"id": 7, "title": "Optics – Ω"},
        created_at=created,
    )
    payload = rules.event_body(event)
    assert json.loads(payload) == {
        "type": "course.created",
        "timestamp": "2026-12-06T20:00:00+00:00",
        "data": {"id": 7, "title": "Optics – Ω"},
    }
    secret, old = rules.new_secret(), rules.new_secret()
    assert secret.startswith("whsec_")
    assert secret != old
    headers = rules.signed_headers(rules.message_id(event.id), payload, utcnow(), [secret, old])
    assert headers["webhook-id"] == "evt_41"
    for key in (secret, old):
        assert Webhook(key).verify(payload, headers) == json.loads(payload)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.new_secret()).verify(payload, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(payload.replace(b"Optics", b"Optica"), headers)
