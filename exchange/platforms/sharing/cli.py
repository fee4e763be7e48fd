"""`hub user`, `hub client`, `hub audit`: the sharing platform's operator commands."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from exchange.platforms.sharing.access.principal import Role

user_app = typer.Typer(help="Staff console users (roles: admin, auditor, operator, department).")
client_app = typer.Typer(help="OAuth2 API clients of the sharing platform.")
audit_app = typer.Typer(help="The sharing audit log: seal and verify its hash chain.")

RoleOpt = Annotated[Role, typer.Option(help="admin, auditor, operator or department")]
DeptOpt = Annotated[
    str | None, typer.Option(help="Department code on this node (role department only)")
]


def _fail(exc: Exception) -> typer.Exit:
    from exchange.core.errors import HubError

    text = f"{exc.code}: {exc.detail}" if isinstance(exc, HubError) else str(exc)
    typer.echo(text, err=True)
    return typer.Exit(2)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    role: RoleOpt,
    department: DeptOpt = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="HUB_USER_PASSWORD", help="Default: asked for, twice, unechoed"),
    ] = None,
) -> None:
    """Create a console user with a scrypt-hashed password."""
    from exchange.core.commands import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime
    from exchange.platforms.sharing.access import service as credentials

    secret = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            user = credentials.create_user(
                session,
                rt.settings.node_code,
                username=username,
                password=secret,
                role=role,
                department=department,
            )
            typer.echo(f"{user.username} {user.role} {department or '-'} {user.id}")
    except HubError as exc:
        raise _fail(exc) from None
    finally:
        rt.close()


def _users(action: str, username: str | None, password: str | None = None) -> None:
    from exchange.core.commands import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime
    from exchange.platforms.sharing.access import service as credentials

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            if action == "list":
                for u in credentials.users(session):
                    dept = u.department.code if u.department else "-"
                    state = "active" if u.active else "disabled"
                    typer.echo(f"{u.username} {u.role} {dept} {state} {u.id}")
            elif action == "disable":
                assert username is not None
                credentials.disable_user(session, username)
                typer.echo(f"{username} disabled; its sessions are ended")
            else:
                assert username is not None
                new = credentials.reset_password(session, username, password)
                typer.echo(f"{username} password reset; its sessions are ended")
                if password is None:
                    typer.echo(f"new password: {new}")
    except HubError as exc:
        raise _fail(exc) from None
    finally:
        rt.close()


@user_app.command("list")
def user_list() -> None:
    """Every console user: name, role, department, active or disabled."""
    _users("list", None)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="Sign-in name")]) -> None:
    """Disable a user at once: its sessions end, and it can no longer sign in."""
    _users("disable", username)


@user_app.command("reset-password")
def user_reset_password(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    password: Annotated[
        str | None,
        typer.Option(envvar="HUB_USER_PASSWORD", help="Default: a random one, printed once"),
    ] = None,
) -> None:
    """Set a new password (random unless given); the user's sessions end."""
    _users("reset-password", username, password)


@client_app.command("add")
def client_add(
    name: Annotated[str, typer.Argument(help="What the client is, e.g. 民政局低保系统")],
    role: RoleOpt = Role.department,
    department: DeptOpt = None,
) -> None:
    """Create an API client; prints client_id and the secret (shown this once)."""
    from exchange.core.commands import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime
    from exchange.platforms.sharing.access import service as credentials

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            client, secret = credentials.create_client(
                session,
                rt.settings.node_code,
                name=name,
                role=role,
                department=department,
                by="cli",
            )
            typer.echo(json.dumps({"client_id": str(client.id), "client_secret": secret}))
    except HubError as exc:
        raise _fail(exc) from None
    finally:
        rt.close()


@audit_app.command("seal")
def audit_seal(
    every: Annotated[
        float | None,
        typer.Option(min=0.1, help="Keep sealing every S seconds until stopped (`hub serve`)"),
    ] = None,
    parent: Annotated[
        int | None, typer.Option(help="With --every: also stop when this process is gone")
    ] = None,
) -> None:
    """Seal what is unsealed now, or keep sealing (`hub serve` runs it every seal interval)."""
    from exchange.core.commands import settings_or_exit
    from exchange.core.logging import configure_logging
    from exchange.core.runtime import build_runtime
    from exchange.platforms.sharing.audit import sealer as worker

    settings = settings_or_exit()
    rt = build_runtime(settings)
    try:
        if every is None:
            typer.echo(f"sealed {worker.seal_once(rt)} entries")
        else:
            configure_logging(settings.log_level, json_lines=settings.log_json)
            worker.run_foreground(rt, every, parent)
    finally:
        rt.close()


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every seal and entry; exit 1 if anything was edited, deleted or reordered."""
    from exchange.core.commands import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.directory.keys import own_history
    from exchange.platforms.sharing.audit.chain import verify
    from exchange.platforms.sharing.audit.log import AuditLog

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            report = verify(
                session,
                own_history(session, rt.settings.node_code, rt.node_keys),
                AuditLog(rt.settings.secret_key.get_secret_value()),
            )
    finally:
        rt.close()
    typer.echo(report.model_dump_json(indent=2))
    if not report.ok:
        raise typer.Exit(1)
