"""Which web pages may open a widget session or a WebSocket: the tenant's allowed_origins.

A browser names the page a request comes from in the Origin header. A request without one is
not from a browser page (curl, a server, a native app) and is not judged. One with an origin
passes when it is the app's own (the console and the hosted pages) or, when the tenant lists
allowed_origins, one of them; an empty list allows any origin (contract: `[] = any`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from ..config import get_config
from ..errors import Forbidden

log = logging.getLogger("switchboard.origins")

_DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"


def origin_header(headers: Mapping[str, str] | None) -> str | None:
    """The Origin header, whatever case the gateway gave its name; None when there is none."""
    return next((value for name, value in (headers or {}).items() if name.lower() == "origin"), None)


def normalise(origin: str) -> str | None:
    """scheme://host[:port] with scheme and host lower-case and the scheme's default port dropped;
    None for anything that is not such an origin (`null` from sandboxed frames and file pages)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password \
            or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def own_origin() -> str | None:
    """The app's own origin: that of SWITCHBOARD_PUBLIC_URL, when set."""
    public_url = get_config().public_url
    parts = urlsplit(public_url)
    return normalise(f"{parts.scheme}://{parts.netloc}") if public_url else None


def permitted(origin: str | None, allowed_origins: Callable[[], Iterable[str]]) -> bool:
    """Whether a request from `origin` may go on; the tenant's list is only read when it matters."""
    if origin is None:
        return True  # not a browser page
    seen = normalise(origin)
    if seen is not None and seen == own_origin():
        return True
    listed = {normalise(entry) for entry in allowed_origins()}
    return not listed or (seen is not None and seen in listed)


def check(origin: str | None, allowed_origins: Callable[[], Iterable[str]], tenant_id: str, where: str) -> None:
    """Refuse (403 origin_not_allowed) a page origin the tenant does not allow, logging one line
    (the origin and the tenant, never a token)."""
    if not permitted(origin, allowed_origins):
        log.warning("%s refused: origin %.200r not allowed for tenant %s", where, origin, tenant_id)
        raise OriginNotAllowed("This page's origin may not use this tenant's chat.")
