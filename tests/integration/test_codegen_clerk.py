"""The generated Clerk Backend API client: ``client.users.get_user(user_id=...)`` returns the user, typed ``User``.

The Clerk document is not in the corpus and is never committed (see ``servers.specs.clerk_spec`` for where a
local copy is looked for). Under ``CI=true`` a skipped test counts as a failure and CI machines do not have the
document, so these tests are *defined* only when the document is present and CI is not set; CI runs the same
checks on corpus documents (test_codegen_corpus.py). ``python benchmarks/bench_codegen.py --spec clerk`` gives
the figures.
"""

from __future__ import annotations

import os
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from servers import PrismServer, ServerUnavailable, judge
from servers.codegen import _Reader, conforms, exercise, run_mypy
from servers.specs import clerk_spec

import myclient
from myclient.codegen import generate

try:
    CLERK: Path | None = clerk_spec()
except ServerUnavailable:
    CLERK = None

USER_ID = "user_2NNEqL2nrIRdJ194ndJqAHwEfxC"
#: A user as Clerk's Backend API documentation shows one (identifiers and timestamps made up).
USER: dict[str, Any] = {
    "id": USER_ID, "object": "user", "external_id": None, "username": None, "first_name": "Ada",
    "last_name": "Lovelace", "image_url": "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9", "has_image": False,
    "primary_email_address_id": "idn_2NNEqGwmWLcj6RBiJTdZ6O6SUN1", "primary_phone_number_id": None,
    "primary_web3_wallet_id": None, "password_enabled": True, "two_factor_enabled": False, "totp_enabled": False,
    "backup_code_enabled": False, "email_addresses": [{
        "id": "idn_2NNEqGwmWLcj6RBiJTdZ6O6SUN1", "object": "email_address", "email_address": "ada@example.com",
        "reserved": False, "linked_to": [], "created_at": 1700690400000, "updated_at": 1700690400000,
        "verification": {"object": "verification_otp", "status": "verified", "strategy": "email_code",
                         "attempts": 1, "expire_at": 1700691000000}}],
    "phone_numbers": [], "web3_wallets": [], "passkeys": [], "external_accounts": [], "saml_accounts": [],
    "enterprise_accounts": [], "public_metadata": {"plan": "pro"}, "private_metadata": {}, "unsafe_metadata": {},
    "last_sign_in_at": 1700690400000, "banned": False, "locked": False, "lockout_expires_in_seconds": None,
    "verification_attempts_remaining": 100, "created_at": 1700690400000, "updated_at": 1700690400000,
    "delete_self_enabled": True, "create_organization_enabled": True, "last_active_at": 1700690400000,
    "mfa_enabled_at": None, "mfa_disabled_at": None, "legal_accepted_at": None,
}
USER_CODE = '''\
from clerk import ClerkBackendAPIClient, models

client = ClerkBackendAPIClient(token="sk_test_x")
user: models.User = client.users.get_user(user_id="user_1")
email: str = user["email_addresses"][0]["email_address"]
first: str | None = user["first_name"]
wrong: int = user["first_name"]  # E
'''


@pytest.fixture(scope="module")
def clerk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, int]]:
    assert CLERK is not None
    out = tmp_path_factory.mktemp("codegen-clerk")
    files = generate(CLERK, "clerk")
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(out))
    try:
        import clerk as package

        yield out, package, sum(text.count("\n") for text in files.values())
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] in ("clerk", "user_code")]:
            del sys.modules[name]


def _get_user_is_typed_user(clerk: tuple[Path, Any, int]) -> None:
    _, package, _ = clerk
    with responses.RequestsMock() as mock:
        mock.get(f"https://api.clerk.com/v1/users/{USER_ID}", json=USER)
        client = package.ClerkBackendAPIClient(token="sk_test_generated")
        user = client.users.get_user(user_id=USER_ID)
        assert mock.calls[0].request.headers["Authorization"] == "Bearer sk_test_generated"
    assert user == USER
    assert user["email_addresses"][0]["email_address"] == "ada@example.com"
    annotation = typing.get_overloads(package.users.Users.get_user)[0].__annotations__["return"]
    assert annotation == "models.User"
    reader = _Reader(package.users, package.models)
    assert conforms(user, reader.text(annotation, reader.module_ns), reader) is None
    assert conforms({**USER, "banned": "no"}, reader.text(annotation, reader.module_ns), reader) is not None


def _small_and_mypy_strict_clean(clerk: tuple[Path, Any, int]) -> None:
    out, _, lines = clerk
    assert lines < 20_000  # with each method typed for Client and AsyncClient; Speakeasy's Clerk SDK is about 97,000
    (out / "user_code.py").write_text(USER_CODE)
    proc = run_mypy(out, ["-p", "clerk", "-m", "user_code"])
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [e.split(":")[:2] for e in errors] == [["user_code.py", "7"]], proc.stdout


def _every_operation_callable(clerk: tuple[Path, Any, int]) -> None:
    assert CLERK is not None
    assert exercise("clerk", CLERK) == []


def _against_prism(clerk: tuple[Path, Any, int], prism: Callable[..., PrismServer]) -> None:
    _, package, _ = clerk
    server = prism("clerk", dynamic=True, seed=1)
    client = package.ClerkBackendAPIClient(server.url, token="sk_test_prism")
    reader = _Reader(package.users, package.models)
    declared = reader.text(package.users.Users.get_user.__annotations__["return"], reader.module_ns)
    result = client.users.get_user_detailed(user_id=USER_ID)
    assert not judge(result.status, result.headers, result.content).rejected
    assert conforms(result.data, declared, reader) is None
    listed = client.users.get_user_list_detailed(limit=5, order_by="-created_at", email_address=["a@example.com"])
    assert not judge(listed.status, listed.headers, listed.content).rejected
    assert all(conforms(user, declared, reader) is None for user in listed.data)
    with pytest.raises(myclient.UnprocessableEntity) as caught:  # Prism checks the request against the document
        client.users.get_user_list(limit=1000)
    assert judge(caught.value.status, caught.value.headers, caught.value.response.content).rejected


if CLERK is not None and os.environ.get("CI", "").strip().lower() not in ("1", "true", "yes"):
    test_get_user_returns_the_user_typed_user = _get_user_is_typed_user
    test_the_package_is_small_and_passes_mypy_strict = _small_and_mypy_strict_clean
    test_every_operation_is_callable_and_answers_in_its_declared_type = _every_operation_callable
    test_the_client_talks_to_prism_serving_the_document = _against_prism
