"""Passwords at OWASP's scrypt cost with rehash on login, and a token-signing key that rotates by key id."""
from __future__ import annotations

import time

import boto3
import jwt
import pytest

from chalicelib.access import tokens
from chalicelib.config import get_config
from chalicelib.runtime import Runtime, runtime, use_runtime
from chalicelib.storage.agents import CredentialModel
from chalicelib.tenancy import passwords
from devstack.harness import PASSWORD, Api
from tests.helpers import me, use_limits


# --- Passwords --------------------------------------------------------------------------------------
def stored_hash(tenant: dict, email: str) -> str:
    return CredentialModel.get(tenant["tenant_id"], email, consistent_read=True).password_hash


def test_the_default_cost_is_owasps_scrypt_n_2_17(aws, monkeypatch):
    monkeypatch.delenv("SWITCHBOARD_SCRYPT_N")
    deployed = get_config.__wrapped__()  # what a Lambda without the test suite's setting reads
    assert deployed.scrypt_n == 2**17
    use_runtime(Runtime(config=deployed))
    started = time.perf_counter()
    hashed = passwords.hash_password(PASSWORD)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert hashed.startswith("scrypt$131072$8$1$")  # N, r, p: 128 MiB of memory per hash
    assert passwords.verify_password(PASSWORD, hashed) and not passwords.needs_rehash(hashed)
    print(f"scrypt N=2^17 r=8 p=1: {elapsed_ms:.0f} ms per hash")


def test_login_rehashes_a_cheaper_hash_at_todays_cost(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    old = stored_hash(tenant, "sam@acme.com")
    assert old.startswith(f"scrypt${2**10}$")
    use_limits(scrypt_n=2**12)  # the cost was raised since Sam's password was set
    assert api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": "sam@acme.com",
                                               "password": "wrong password"}).status_code == 401
    assert stored_hash(tenant, "sam@acme.com") == old  # a wrong password rehashes nothing
    api.login(tenant["tenant_id"], "sam@acme.com")
    upgraded = stored_hash(tenant, "sam@acme.com")
    assert upgraded.startswith(f"scrypt${2**12}$8$1$") and passwords.verify_password(PASSWORD, upgraded)
    api.login(tenant["tenant_id"], "sam@acme.com")  # the new hash logs in, and is not made again
    assert stored_hash(tenant, "sam@acme.com") == upgraded
    use_limits(scrypt_n=2**10)  # nor is a hash ever made cheaper
    api.login(tenant["tenant_id"], "sam@acme.com")
    assert stored_hash(tenant, "sam@acme.com") == upgraded


# --- The token-signing key --------------------------------------------------------------------------
SECRET = "switchboard-test/token-signing"


def rotate() -> str:
    """As docs/deploy.md does it: a new version becomes AWSCURRENT, the last one AWSPREVIOUS."""
    client = boto3.client("secretsmanager")
    return client.put_secret_value(SecretId=SECRET, SecretString=client.get_random_password(
        PasswordLength=64, ExcludePunctuation=True)["RandomPassword"])["VersionId"]


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_tokens_name_the_current_key_and_survive_one_rotation(api: Api, tenant: dict, clock):
    before = tenant["admin_token"]
    current = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["VersionId"]
    assert kid(before) == current
    new_version = rotate()
    clock.advance(tokens.KEY_CACHE_SECONDS)  # this container re-reads the key within its cache time
    after = api.login(tenant["tenant_id"], "admin@acme.com")
    assert kid(after) == new_version != kid(before)
    assert me(api, before) == 200 and me(api, after) == 200  # signed before the rotation: valid until it expires
    rotate()  # the next rotation retires the key `before` was signed with
    clock.advance(tokens.KEY_CACHE_SECONDS)
    assert me(api, before) == 401 and me(api, after) == 200


def test_a_token_signed_by_another_container_with_the_new_key_verifies_at_once(api: Api, tenant: dict):
    assert me(api, tenant["admin_token"]) == 200  # this container holds the key from before
    rotate()
    container = runtime()
    use_runtime(Runtime(clock=container.clock))  # a fresh container, already on the new key
    fresh = api.login(tenant["tenant_id"], "admin@acme.com")
    use_runtime(container)
    assert me(api, fresh) == 200  # an unknown key id makes this one re-read the secret


@pytest.mark.parametrize("forgery", ["unknown kid", "no such key", "other key, current kid", "alg none"])
def test_a_token_with_an_unknown_key_or_signature_is_refused(api: Api, tenant: dict, forgery: str):
    claims = jwt.decode(tenant["admin_token"], options={"verify_signature": False})
    key = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    unknown = "00000000-0000-4000-8000-000000000000"
    forged = {
        "unknown kid": lambda: jwt.encode(claims, key, "HS256", headers={"kid": unknown}),
        "no such key": lambda: jwt.encode(claims, key, "HS256", headers={"kid": "x" * 500}),
        "other key, current kid": lambda: jwt.encode(claims, "not-our-key" * 4, "HS256",
                                                     headers={"kid": kid(tenant["admin_token"])}),
        "alg none": lambda: jwt.encode(claims, None, "none", headers={"kid": kid(tenant["admin_token"])}),
    }[forgery]()
    assert me(api, forged) == 401


def test_a_token_from_before_key_ids_verifies_while_its_key_is_held(api: Api, tenant: dict, clock):
    """Survey and unsubscribe links issued before tokens named their key keep working until it is retired."""
    claims = jwt.decode(tenant["admin_token"], options={"verify_signature": False})
    key = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    legacy = jwt.encode(claims, key, "HS256")
    assert "kid" not in jwt.get_unverified_header(legacy)
    assert me(api, legacy) == 200
    rotate()
    clock.advance(tokens.KEY_CACHE_SECONDS)
    assert me(api, legacy) == 200  # its key is AWSPREVIOUS now
    rotate()
    clock.advance(tokens.KEY_CACHE_SECONDS)
    assert me(api, legacy) == 401
