"""`hub catalogue import|list|show|versions`: the node's catalogue from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from exchange.catalogue.service import Context
    from exchange.core.runtime import Runtime

catalogue_app = typer.Typer(
    help="The resource catalogue (编目, 审核, 发布): import schema files, list, show.",
    no_args_is_help=True,
)


def _context(rt: Runtime) -> Context:
    from exchange.catalogue.service import Context

    return Context.of(rt.settings, rt.schemas)


@catalogue_app.command("import")
def catalogue_import(
    files: Annotated[list[Path], typer.Argument(help="Schema files (the format of schemas/)")],
    as_dept: Annotated[
        str | None, typer.Option("--as", help="Provider department (default: catalog.provider)")
    ] = None,
) -> None:
    """Catalogue each file: draft, submit, approve, publish, each step logged by the import.

    One transaction per file: a refused file is reported and leaves nothing behind."""
    from exchange.catalogue.importer import import_descriptor, read_file
    from exchange.core.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime

    rt = build_runtime(settings_or_exit())
    failed = 0
    try:
        ctx = _context(rt)
        for path in files:
            try:
                with session_scope(rt.sessions) as session:
                    done = import_descriptor(session, ctx, read_file(path), as_dept=as_dept)
                version = f"v{done.version}" if done.version else "-"
                typer.echo(f"{done.action}\t{done.code}\t{done.identifier}\t{version}")
            except HubError as exc:
                failed += 1
                typer.echo(f"{path}: {exc.code}: {exc.detail}", err=True)
    finally:
        rt.close()
    if failed:
        raise typer.Exit(2)


@catalogue_app.command("list")
def catalogue_list(
    status: Annotated[str | None, typer.Option(help="draft, submitted, published, ...")] = None,
    provider: Annotated[str | None, typer.Option(help="department code")] = None,
) -> None:
    """code, identifier, status, version in force, provider."""
    from exchange.catalogue import service
    from exchange.core.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            _, rows = service.listing(
                session,
                status=status,
                provider=provider,
                node_code=rt.settings.node_code,
                limit=100_000,
            )
            for r in rows:
                version = f"v{r.current_version}" if r.current_version else "-"
                typer.echo(f"{r.code}\t{r.identifier}\t{r.status}\t{version}")
    finally:
        rt.close()


@catalogue_app.command("show")
def catalogue_show(
    code: Annotated[str, typer.Argument(help="resource code or identifier")],
) -> None:
    """The resource, its draft if any, and every step of its life (JSON)."""
    from exchange.catalogue import service
    from exchange.core.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            r = service.get(session, code)
            body = {
                "code": r.code,
                "identifier": r.identifier,
                "status": r.status,
                "review_state": service.review_state(r),
                "current_version": r.current_version,
                "draft": r.draft,
                "events": [
                    {
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "reason": e.reason,
                        "version": e.version,
                    }
                    for e in service.events(session, r.code)
                ],
            }
            typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    except HubError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        rt.close()


@catalogue_app.command("versions")
def catalogue_versions(
    code: Annotated[str, typer.Argument(help="resource code or identifier")],
    number: Annotated[
        int | None, typer.Option("--show", help="print this version's descriptor")
    ] = None,
) -> None:
    """Every published version: number, when, by whom; or one version's descriptor."""
    from exchange.catalogue import service
    from exchange.core.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.errors import HubError
    from exchange.core.runtime import build_runtime

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            if number is not None:
                v = service.version(session, code, number)
                typer.echo(json.dumps(v.descriptor, ensure_ascii=False, indent=2))
                return
            for v in service.versions(session, code):
                until = v.previous_until.isoformat() if v.previous_until else "-"
                typer.echo(f"v{v.number}\t{v.published_at.isoformat()}\t{v.published_by}\t{until}")
    except HubError as exc:
        typer.echo(f"{exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        rt.close()
