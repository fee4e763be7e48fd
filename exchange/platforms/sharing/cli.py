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
    from exchange.core.cli import settings_or_exit
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
    from exchange.core.cli import settings_or_exit
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
    from exchange.core.cli import settings_or_exit
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
    from exchange.core.cli import settings_or_exit
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


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Send the seal heads the parent node has not countersigned yet (the sealer does this
    after every pass); exit 1 if the parent could not be reached or refused them."""
    from exchange.core.cli import settings_or_exit
    from exchange.core.runtime import build_runtime
    from exchange.platforms.sharing.audit import client as anchoring

    rt = build_runtime(settings_or_exit())
    try:
        if rt.settings.parent is None:
            typer.echo("this node has no parent: its chain is unanchored", err=True)
            raise typer.Exit(1)
        with anchoring.new_client() as http:
            typer.echo(f"countersigned {anchoring.anchor_once(rt, http)} seal heads")
    except anchoring.ParentUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        rt.close()


@audit_app.command("held")
def audit_held(
    child: Annotated[
        str | None, typer.Option(help="One child's heads in full (default: a line per child)")
    ] = None,
) -> None:
    """The seal heads of this node's children that it countersigned (the copy their insiders
    cannot reach): a summary per child, or every head of one child."""
    from exchange.core.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.platforms.sharing.audit import anchor

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            if child is None:
                typer.echo(json.dumps(anchor.children_summary(session), indent=2))
                return
            heads = anchor.held_heads(session, child, after=0, limit=10**9)
            typer.echo(json.dumps([h.model_dump(mode="json") for h in heads], indent=2))
    finally:
        rt.close()


@audit_app.command("verify")
def audit_verify(
    against_parent: Annotated[
        bool,
        typer.Option(
            "--against-parent",
            help="Also compare the chain with the seal heads the parent node holds",
        ),
    ] = False,
) -> None:
    """Check every seal and entry, and the chain against the parent's countersignatures;
    exit 1 if anything was edited, deleted, reordered, truncated or forked."""
    from exchange.core.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.directory.keys import own_history
    from exchange.platforms.sharing.audit import anchor
    from exchange.platforms.sharing.audit import client as anchoring
    from exchange.platforms.sharing.audit.chain import verify
    from exchange.platforms.sharing.audit.log import AuditLog

    rt = build_runtime(settings_or_exit())
    parent = rt.settings.parent
    try:
        held = None
        if against_parent:
            if parent is None:
                typer.echo("--against-parent: this node has no parent", err=True)
                raise typer.Exit(2)
            try:
                with anchoring.new_client() as http:
                    held = anchoring.held_by_parent(rt, http)
            except anchoring.ParentUnavailable as exc:
                typer.echo(f"--against-parent: {exc}", err=True)
                raise typer.Exit(2) from None
        with session_scope(rt.sessions) as session:
            report = verify(
                session,
                own_history(session, rt.settings.node_code, rt.node_keys),
                AuditLog(rt.settings.secret_key.get_secret_value()),
            )
            anchor.check_anchors(
                session,
                report,
                me=rt.settings.node_code,
                parent=parent.code if parent else None,
                held=held,
            )
    finally:
        rt.close()
    typer.echo(report.model_dump_json(indent=2))
    if not report.ok:
        raise typer.Exit(1)
