"""`hub department add|list`: the departments of this node, as directory data."""

from __future__ import annotations

from typing import Annotated

import typer

from exchange.core.cli import node_session

department_app = typer.Typer(
    help="Departments of this node (directory data).", no_args_is_help=True
)


@department_app.command("add")
def department_add(
    code: Annotated[str, typer.Argument(help="Department code on this node, e.g. MZ")],
    name: Annotated[str, typer.Argument(help="Name, e.g. 民政局 (the node's name is prefixed)")],
    parent_org: Annotated[
        str | None, typer.Option("--parent", help="Parent organisation, e.g. 杭州市人民政府")
    ] = None,
) -> None:
    """Add a department (also one that only consumes), so clients and users can be made for it."""
    from exchange.directory import service

    with node_session() as (rt, session):
        d = service.add_department(session, rt.settings.node_code, code, name, parent_org)
        typer.echo(f"{d.code}\t{d.name}\t{d.parent_org or '-'}")


@department_app.command("list")
def department_list() -> None:
    """Every department of this node: code, name, parent organisation."""
    from exchange.directory import repository

    with node_session() as (rt, session):
        for d in repository.list_departments(session, rt.settings.node_code):
            typer.echo(f"{d.code}\t{d.name}\t{d.parent_org or '-'}")
