"""The page: static files only. The page signs in with a token and reads everything through the
authenticated API (/api/work, /api/dashboard, /api/vocabulary, /api/live, ...); nothing here
needs or shows data. Its scripts are native ES modules under web/js/ (no build step), served as
they are; the charting library, Apache ECharts, is installed from the npm registry by `make
install` and served from here: the page needs no network beyond this server."""
from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse

WEB = Path(__file__).parent.parent / "web"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def _assets() -> dict[str, str]:
    """The page's own scripts and styles by their path under /app/ (web/ less the npm
    packages): only these are served, so no path a request makes up reaches another file."""
    return {path.relative_to(WEB).as_posix(): TYPES[path.suffix] for path in sorted(WEB.rglob("*"))
            if path.suffix in TYPES and path.is_file()
            and "node_modules" not in path.relative_to(WEB).parts}


ASSETS = _assets()

router = APIRouter(include_in_schema=False)


def echarts_file() -> Path:
    """`BANLI_ECHARTS_JS`, else the copy `npm ci` put beside the page."""
    configured = os.environ.get("BANLI_ECHARTS_JS")
    return Path(configured) if configured else WEB / "node_modules/echarts/dist/echarts.min.js"


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/app/")


@router.get("/app/")
async def page() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/app/vendor/echarts.min.js")
async def echarts() -> FileResponse:
    path = echarts_file()
    if not path.is_file():
        raise HTTPException(404, detail={
            "code": "no_charts", "message": "图表库未安装：请运行 make install",
            "message_en": f"ECharts is not installed at {path}: run `make install`"})
    return FileResponse(path, media_type=TYPES[".js"],
                        headers={"Cache-Control": "max-age=86400"})


@router.get("/app/{name:path}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, detail={"code": "not_found", "message": "未找到",
                                         "message_en": f"no such file: {name}"})
    return FileResponse(WEB / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
