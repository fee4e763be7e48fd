from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from exchange.core.deps import DbSession, SettingsDep
from exchange.platforms.open_data import service
from exchange.platforms.open_data.schemas import ActionResponse

router = APIRouter(tags=["open data"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, session: DbSession, settings: SettingsDep) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "home.html",
        {"datasets": service.public_datasets(session), "node_name": settings.resolved_node_name},
    )


@router.get("/api/3/action/package_list", response_model=ActionResponse)
def package_list(request: Request, session: DbSession) -> ActionResponse:
    return ActionResponse(help=str(request.url), result=service.package_names(session))
