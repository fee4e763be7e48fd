"""`hub portal ...`: the open-data portal's operator commands."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The open-data portal.", no_args_is_help=True)


@app.command("staff-token")
def staff_token(
    department: Annotated[str, typer.Option(help="Provider department code, e.g. TJ")],
    name: Annotated[str, typer.Option(help="Who answers, as shown to visitors")] = "数据管理员",
    hours: Annotated[float, typer.Option(help="Validity")] = 12,
) -> None:
    """Print an interim staff sign-in token (until the sharing platform's accounts exist)."""
    from exchange.core.cli import settings_or_exit
    from exchange.platforms.open_data.feedback.staff import issue_staff_token

    typer.echo(issue_staff_token(settings_or_exit(), department, name, hours=hours))


@app.command("refresh")
def refresh() -> None:
    """Re-index changed catalogue entries and recompute quality scores."""
    from exchange.core.cli import settings_or_exit
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.platforms.open_data.portal.service import refresh_catalog

    rt = build_runtime(settings_or_exit())
    try:
        with session_scope(rt.sessions) as session:
            changed = refresh_catalog(session, rt.schemas)
        typer.echo(f"{changed} catalogue entries re-indexed; quality scores recomputed")
    finally:
        rt.close()


@app.command("scan")
def scan(
    sample_rows: Annotated[int, typer.Option(help="Rows read per dataset, twice")] = 2000,
) -> None:
    """Look for personal data in what open datasets serve; exit 1 if any is found."""
    from exchange.core.cli import settings_or_exit
    from exchange.core.runtime import build_runtime
    from exchange.platforms.open_data.datastore.pii_scan import scan as run_scan

    rt = build_runtime(settings_or_exit())
    try:
        with rt.sessions() as session:
            findings = run_scan(session, rt.schemas, sample_rows)
    finally:
        rt.close()
    for f in findings:
        typer.echo(f"{f.dataset}.{f.column}: {f.kind} {f.example} ({f.count} in sample)")
    if findings:
        raise typer.Exit(1)
    typer.echo("no personal data found in open datasets")
