"""The redaction registry: names, literal values and credential shapes masked in every form."""

from __future__ import annotations

from myclient.redaction import MASK, Registry


def test_query_params_userinfo_and_literals_are_masked_in_urls() -> None:
    reg = Registry()
    reg.add_secret("literal-secret-1")
    url = "https://ann:pw@h.example/p/literal-secret-1?access_token=a&Code=b&q=keep"
    assert reg.url(url) == f"https://ann:{MASK}@h.example/p/{MASK}?access_token={MASK}&Code={MASK}&q=keep"


def test_registered_names_extend_the_defaults() -> None:
    reg = Registry()
    reg.add_header("X-Gateway-Key")
    reg.add_param("sessionid")
    reg.add_field("pin")
    assert reg.header_items({"x-gateway-key": "v", "Accept": "a"}) == {"x-gateway-key": MASK, "Accept": "a"}
    assert reg.url("https://h/x?SessionId=1") == f"https://h/x?SessionId={MASK}"
    assert reg.data({"pin": "1234", "n": [{"pin": "9"}]}) == {"pin": MASK, "n": [{"pin": MASK}]}


def test_text_masks_json_fields_pairs_and_credential_shapes() -> None:
    reg = Registry()
    text = ('{"refresh_token": "r1", "password":"p\\"q"} client_secret=s3 '
            "Authorization: Bearer abcdefgh1234 eyJhbGciOiJI.eyJzdWIiOiIx.c2ln token endpoint")
    out = reg.text(text)
    for secret in ("r1", 'p\\"q', "s3", "abcdefgh1234", "eyJhbGciOiJI"):
        assert secret not in out
    assert reg.contains_secret(out) == []
    assert out.endswith("token endpoint")


def test_longer_secret_masked_whole_when_it_contains_a_shorter_one() -> None:
    reg = Registry()
    reg.add_secret("abcd")
    reg.add_secret("abcdefgh")
    assert reg.text("x abcdefgh y abcd") == f"x {MASK} y {MASK}"


def test_short_values_are_not_registered() -> None:
    reg = Registry()
    reg.add_secret("ab")
    reg.add_secret(None)
    assert reg.secrets == frozenset()


def test_contains_secret_reports_registered_values_and_shapes() -> None:
    reg = Registry()
    reg.add_secret("canary-value")
    found = reg.contains_secret("has canary-value and Basic dXNlcjpwYXNzd29yZA==")
    assert len(found) == 2


def test_form_bodies_mask_secret_fields() -> None:
    reg = Registry()
    assert reg.form("grant_type=password&username=ann&password=pw&client_secret=cs") == (
        f"grant_type=password&username=ann&password={MASK}&client_secret={MASK}"
    )


def test_secret_header_names_are_secret_as_fields_and_params_too() -> None:
    reg = Registry()
    assert reg.data({"Authorization": "Bearer x", "Set-Cookie": "sid=1"}) == {"Authorization": MASK, "Set-Cookie": MASK}
    assert reg.url("https://h/x?Set-Cookie=sid%3D1") == f"https://h/x?Set-Cookie={MASK}"
