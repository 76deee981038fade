"""A demo tenant created through the public API, as a new customer would create one."""
from __future__ import annotations

from dataclasses import dataclass

import requests

from .oidc_issuer import OidcIssuer

DEMO_PASSWORD = "switchboard-demo"
DEMO_PEOPLE = [  # (email, name, role, teams)
    ("supervisor@example.com", "Sam Supervisor", "supervisor", ["support", "billing"]),
    ("alex@example.com", "Alex Agent", "agent", ["support"]),
    ("bea@example.com", "Bea Agent", "agent", ["billing"]),
    ("casey@example.com", "Casey Compliance", "compliance", []),
]

DEMO_FAQ = [
    {"question": "What is your returns policy?", "answer": "You can return any item within 30 days for a full refund.",
     "keywords": ["return", "refund"]},
    {"question": "How long does delivery take?", "answer": "Orders arrive in 2 to 4 working days.",
     "keywords": ["shipping", "delivery", "parcel"]},
]
DEMO_CANNED = [
    {"shortcut": "refund", "text": "I've started your refund; you'll see it within 5 working days."},
    {"shortcut": "thanks", "text": "Thanks for chatting with us. Have a great day!"},
]


@dataclass(frozen=True)
class DemoTenant:
    tenant_id: str
    api_key: str
    widget_key: str
    logins: list[tuple[str, str]]  # (email, role)


def seed_demo_tenant(base_url: str, issuer: OidcIssuer) -> DemoTenant:
    signup = _post(base_url, "/v1/tenants", {"name": "Demo Shop", "admin_email": "admin@example.com",
                                              "admin_password": DEMO_PASSWORD})
    token = _post(base_url, "/v1/auth/login", {"tenant_id": signup["tenant_id"],
                                               "email": "admin@example.com",
                                               "password": DEMO_PASSWORD})["token"]
    logins = [("admin@example.com", "admin")]
    for email, name, role, teams in DEMO_PEOPLE:
        _post(base_url, "/v1/agents", {"email": email, "name": name, "password": DEMO_PASSWORD,
                                       "role": role, "teams": teams, "max_concurrent": 3}, token)
        logins.append((email, role))
    for faq in DEMO_FAQ:
        _post(base_url, "/v1/faq", faq, token)
    for canned in DEMO_CANNED:
        _post(base_url, "/v1/canned-responses", canned, token)
    # Only pages on this stack may carry the widget (by either local name); the survey follows a
    # close within a minute.
    origins = [base_url, base_url.replace("127.0.0.1", "localhost")]
    requests.put(base_url + "/v1/settings", json={"allowed_origins": origins, "survey_delay_seconds": 30},
                 headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
    # Single sign-on with the local test issuer: its page offers every demo login (passwords still work).
    issuer.users = [email for email, _ in logins]
    requests.put(base_url + "/v1/sso", json={"issuer": issuer.issuer, "client_id": issuer.client_id,
                                             "client_secret": issuer.client_secret},
                 headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
    return DemoTenant(signup["tenant_id"], signup["api_key"], signup["widget_key"], logins)


def _post(base_url: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(base_url + path, json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()
