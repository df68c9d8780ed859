"""Webhook signatures of the mock payment service: the header format, an independent HMAC
computed here, the time tolerance both ways, and every kind of tampering refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from portal.mock_pay.signing import HEADER, sign, verify

SECRET = "mock-pay-webhook-secret"
BODY = '{"id":"evt_1","type":"payment.paid","data":{"payment":{"description":"住民票"}}}'.encode()
T = 1_795_000_000


def test_the_header_is_t_and_v1_over_timestamp_dot_body():
    header = sign(SECRET, BODY, T)
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={expected}"
    assert HEADER == "Mock-Pay-Signature"


def test_a_signature_verifies_within_the_tolerance():
    header = sign(SECRET, BODY, T)
    assert verify(SECRET, BODY, header, now=T)
    assert verify(SECRET, BODY, header, now=T + 300)
    assert verify(SECRET, BODY, header, now=T - 300)  # the sender's clock may run ahead
    assert not verify(SECRET, BODY, header, now=T + 301)
    assert not verify(SECRET, BODY, header, now=T - 301)
    assert verify(SECRET, BODY, header, now=T + 3600, tolerance=3600)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),  # one byte more in the body
        lambda h, b: (h, b.replace(b"paid", b"fail")),  # the body changed
        lambda h, b: (h.replace(f"t={T}", f"t={T + 1}"), b),  # the timestamp changed
        lambda h, b: (h[:-1] + ("0" if h[-1] != "0" else "1"), b),  # the digest changed
        lambda h, b: (h.split(",")[1], b),  # no timestamp
        lambda h, b: (h.split(",")[0], b),  # no signature
        lambda h, b: (h.replace("v1=", "v0="), b),  # an unknown scheme only
        lambda h, b: ("", b),
        lambda h, b: ("garbage", b),
        lambda h, b: (f"t=abc,{h.split(',')[1]}", b),
        lambda h, b: (f"t={T},t={T},{h.split(',')[1]}", b),  # two timestamps
        lambda h, b: (h.upper(), b),
    ],
)
def test_tampering_is_refused(tamper):
    header, body = tamper(sign(SECRET, BODY, T), BODY)
    assert not verify(SECRET, body, header, now=T)


def test_the_wrong_secret_is_refused():
    header = sign("another-secret", BODY, T)
    assert not verify(SECRET, BODY, header, now=T)
    assert not verify("", BODY, sign(SECRET, BODY, T), now=T)
    with pytest.raises(ValueError):
        sign("", BODY, T)


def test_one_of_several_signatures_may_match_while_a_secret_is_rotated():
    old = sign("old-secret", BODY, T).split(",")[1]
    header = sign(SECRET, BODY, T) + "," + old
    assert verify(SECRET, BODY, header, now=T)
    assert verify("old-secret", BODY, header, now=T)
    assert not verify("third-secret", BODY, header, now=T)


def test_spaces_after_commas_are_accepted():
    header = sign(SECRET, BODY, T).replace(",", ", ")
    assert verify(SECRET, BODY, header, now=T)
