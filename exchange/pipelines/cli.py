"""`hub check standards|security|ops` and `hub airflow up`: the assurance systems by hand."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

check_app = typer.Typer(help="Run an assurance system's checks now (what the DAGs run).")
airflow_app = typer.Typer(help="A local Apache Airflow for the assurance DAGs.")
console = Console()
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "dim"}

PublicUrl = Annotated[
    str | None,
    typer.Option(help="Probe a running node's open-data API at this URL (default: in process)."),
]


def _run(system: str, public_url: str | None = None) -> None:
    from exchange.core.cli import settings_or_exit
    from exchange.core.runtime import build_runtime
    from exchange.pipelines import runs, service, standards

    rt = build_runtime(settings_or_exit())
    try:
        run_id = service.run_system(rt, system, runs.run_key_for(None), public_url=public_url)
        with rt.sessions() as session:
            run = runs.get_run(session, run_id)
            found = list(runs.findings(session, run_id))
            reports = standards.quality_reports(session, run_id) if system == "standards" else []
            checks = dict(run.checks)
    finally:
        rt.close()
    if reports:
        table = Table("resource", "engine", "rows", "pass rate", "failing rules", "seconds")
        for q in reports:
            failing = ", ".join(f"{k}={v}" for k, v in sorted(q.failures_by_rule.items()))
            table.add_row(
                q.resource_code,
                q.engine,
                f"{q.rows:,}",
                f"{q.pass_rate:.4f}",
                failing,
                f"{q.seconds:.2f}",
            )
        console.print(table)
    table = Table("check", "status", title=f"{system} checks")
    for name, info in sorted(checks.items()):
        table.add_row(name, info["status"])
    console.print(table)
    if found:
        table = Table("severity", "kind", "subject", "message", title="findings")
        for f in found:
            style = SEVERITY_STYLE[f.severity]
            table.add_row(f"[{style}]{f.severity}[/]", f.kind, f.subject, f.message)
        console.print(table)
    counts = runs.count_by_severity(found)
    console.print(
        f"{system}: {counts['critical']} critical, "
        f"{counts['warning']} warning, {counts['info']} info"
    )
    if counts["critical"]:
        raise typer.Exit(1)


@check_app.command("standards")
def check_standards() -> None:
    """Every resource's stored rows against its schema's rules; updates quality scores."""
    _run("standards")


@check_app.command("security")
def check_security(public_url: PublicUrl = None) -> None:
    """Personal data in public view, hidden resources reachable, rights in use, audit chain."""
    _run("security", public_url)


@check_app.command("ops")
def check_ops() -> None:
    """Freshness, connector heartbeats, relay backlog, neighbours, storage, quarantine."""
    _run("ops")


@airflow_app.command("up")
def airflow_up(
    port: Annotated[int, typer.Option(help="API server port (0: a free one)")] = 0,
    home: Annotated[Path, typer.Option(help="AIRFLOW_HOME")] = Path("var/airflow"),
) -> None:
    """`airflow standalone` on loopback with this project's dags/ and the hub's database."""
    from exchange.core.cli import settings_or_exit
    from exchange.pipelines import airflow_local
    from exchange.testing.postgres import free_port

    settings = settings_or_exit()
    airflow = shutil.which("airflow", path=str(Path(sys.executable).parent)) or shutil.which(
        "airflow"
    )
    if airflow is None:
        typer.echo("airflow is not installed: make venv installs the [airflow] extra", err=True)
        raise typer.Exit(2)
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    console.print(
        f"Airflow at http://127.0.0.1:{port} (home {home}); the admin password is written to "
        f"{home}/simple_auth_manager_passwords.json.generated; Ctrl-C stops it"
    )
    env = airflow_local.environment(settings, airflow, home, port)
    raise typer.Exit(
        airflow_local.run_standalone(airflow, env, lambda m: console.print(f"[yellow]{m}[/yellow]"))
    )
