"""Who is a provider department's staff member on the portal's staff pages.

SWAP POINT. Real staff sign-in and roles are being built by the sharing platform. Until they
exist, `current_staff` accepts a short-lived token signed with the node's secret
(`issue_staff_token`, printed by `hub portal staff-token --department TJ`), sent as a cookie
(set by /staff/login) or as `Authorization: Bearer ...`. When the sharing platform's principal
dependency exists, replace the body of `current_staff` (or override it with
`app.dependency_overrides[current_staff]`) to return a `StaffPrincipal` from it; nothing else
in the portal needs to change.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import jwt
from fastapi import Depends, Request

from exchange.core.deps import SettingsDep
from exchange.core.settings import Settings
from exchange.platforms.open_data.errors import StaffOnly
from exchange.platforms.open_data.feedback.service import StaffPrincipal

COOKIE = "hub_staff"
AUDIENCE = "hub-open-data-staff"


def issue_staff_token(
    settings: Settings, department_code: str, name: str, *, hours: float = 12
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "aud": AUDIENCE,
        "node": settings.node_code,
        "dept": department_code,
        "name": name,
        "iat": now,
        "exp": now + dt.timedelta(hours=hours),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


def principal_from_token(settings: Settings, token: str) -> StaffPrincipal:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "dept", "node", "name"]},
        )
    except jwt.ExpiredSignatureError:
        raise StaffOnly("the staff token has expired") from None
    except jwt.InvalidTokenError:
        raise StaffOnly("the staff token is not valid") from None
    if claims["node"] != settings.node_code:
        raise StaffOnly("the staff token is for another node")
    return StaffPrincipal(claims["node"], str(claims["dept"]), str(claims["name"]))


def current_staff(request: Request, settings: SettingsDep) -> StaffPrincipal:
    auth = request.headers.get("authorization", "")
    token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
    token = token or request.cookies.get(COOKIE)
    if not token:
        raise StaffOnly("sign in at /staff/login")
    return principal_from_token(settings, token)


StaffDep = Annotated[StaffPrincipal, Depends(current_staff)]
