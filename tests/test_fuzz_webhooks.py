"""Authentic (correctly signed) webhook deliveries of any shape: the OpenAPI fuzz cannot sign, so these
bodies are generated here. None may answer 5xx; one we cannot read is kept as a dead letter."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select

from channels.models import EventState, InboundEvent
from kernel.db import unit_of_work
from kernel.settings import get_settings

ZALO_APP_ID = "4300000000000000001"
OA_SECRET_KEY = "fuzz-oa-secret-key"
FB_APP_SECRET = "fuzz-fb-app-secret"

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)
zalo_bodies = st.fixed_dictionaries(
    {"app_id": st.just(ZALO_APP_ID)},
    optional={
        "event_name": st.sampled_from(["user_send_text", "user_send_image", "oa_send_text", "follow"])
        | any_json,
        "timestamp": any_json,
        "sender": any_json,
        "recipient": any_json,
        "follower": any_json,
        "message": any_json
        | st.fixed_dictionaries({}, optional={"msg_id": any_json, "text": any_json, "attachments": any_json}),
    },
)
messaging = st.fixed_dictionaries(
    {},
    optional={
        "sender": any_json,
        "recipient": any_json,
        "timestamp": any_json,
        "message": any_json,
        "postback": any_json,
    },
)
facebook_bodies = st.fixed_dictionaries(
    {"object": st.just("page")},
    optional={
        "entry": any_json
        | st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": any_json,
                    "time": any_json,
                    "messaging": any_json | st.lists(messaging, max_size=2),
                    "changes": any_json,
                },
            ),
            max_size=2,
        )
    },
)
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def signed_webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CIVICDESK_ZALO_APP_ID", ZALO_APP_ID)
    monkeypatch.setenv("CIVICDESK_ZALO_OA_SECRET_KEY", OA_SECRET_KEY)
    monkeypatch.setenv("CIVICDESK_FACEBOOK_APP_SECRET", FB_APP_SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def post_zalo(client: TestClient, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    timestamp = str(body.get("timestamp", ""))
    mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + timestamp.encode() + OA_SECRET_KEY.encode())
    return client.post(
        "/webhooks/zalo", content=raw, headers={"X-ZEvent-Signature": f"mac={mac.hexdigest()}"}
    )


def post_facebook(client: TestClient, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(FB_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/webhooks/facebook", content=raw, headers={"X-Hub-Signature-256": signature})


@pytest.mark.usefixtures("signed_webhooks")
@FUZZ
@given(body=zalo_bodies)
@example(body={"app_id": ZALO_APP_ID, "event_name": "user_send_text", "timestamp": 1e30, "message": {}})
@example(body={"app_id": ZALO_APP_ID, "event_name": "user_send_text", "sender": "not-an-object"})
@example(body={"app_id": ZALO_APP_ID, "event_name": "user_send_text", "message": {"msg_id": "a\u0000b"}})
def test_signed_zalo_delivery_of_any_shape_never_answers_5xx(
    client: TestClient, body: dict[str, Any]
) -> None:
    response = post_zalo(client, body)
    assert response.status_code < 500, response.text


@pytest.mark.usefixtures("signed_webhooks")
@FUZZ
@given(body=facebook_bodies)
@example(body={"object": "page", "entry": 5})
@example(body={"object": "page", "entry": [{"messaging": [{"sender": "psid", "message": {"text": "x"}}]}]})
@example(body={"object": "page", "entry": [{"messaging": [{"timestamp": 1e30, "message": {"mid": "m"}}]}]})
def test_signed_facebook_delivery_of_any_shape_never_answers_5xx(
    client: TestClient, body: dict[str, Any]
) -> None:
    response = post_facebook(client, body)
    assert response.status_code < 500, response.text


@pytest.mark.usefixtures("signed_webhooks")
def test_an_unreadable_signed_delivery_is_kept_once_as_a_dead_letter_and_acknowledged(
    client: TestClient, engine: Engine, admin: dict[str, str]
) -> None:
    odd = {"object": "page", "entry": 5}
    first, repeated = post_facebook(client, odd), post_facebook(client, odd)
    assert first.status_code == repeated.status_code == 200
    assert first.json()["dead_letters"] == 1 and repeated.json()["dead_letters"] == 0
    with unit_of_work(engine) as session:
        (parked,) = session.exec(select(InboundEvent)).all()
        assert parked.state == EventState.DEAD
        assert parked.last_error and "TypeError" in parked.last_error
        assert json.loads(parked.payload["raw"]) == odd
    admin_view = client.get("/api/v1/channels/dead-letters", headers=admin)
    assert admin_view.status_code == 200 and len(admin_view.json()) == 1
