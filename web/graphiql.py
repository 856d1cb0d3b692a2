"""GraphiQL served by the server itself: the page and its vendored assets (development).

The assets are web/vendor/'s files (`python -m web.update`), served at
/graphiql/<package>@<version>/<file>: a new version is a new URL, so they can be cached
for a year. The page names them with the manifest's sha256 as SRI, opens with the first
demo user's Authorization header and a sample query, and needs no network.
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from string import Template
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from auth import demo
from domain.demo import USERS
from settings import Settings

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
PREFIX = "/graphiql/"
SAMPLE_QUERY = """\
query Projects {
  projects(first: 10) {
    edges {
      node {
        id
        name
        sessionCount
        thumbnailUrl
      }
    }
  }
}
"""
# Exact types, as every response carries `nosniff` (text/javascript: RFC 9239's for scripts).
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@functools.cache
def manifest() -> dict[str, str]:
    """Each vendored file's path (under vendor/ and under /graphiql/) -> its SRI hash, in
    the manifest's order (each package after those it needs)."""
    packages: list[dict[str, Any]] = json.loads((VENDOR / "manifest.json").read_text())["packages"]
    return {
        file["path"]: "sha256-" + base64.b64encode(bytes.fromhex(file["sha256"])).decode()
        for package in packages
        for file in package["files"]
    }


@functools.cache
def _template() -> Template:
    return Template((HERE / "graphiql.html").read_text(encoding="utf-8"))


def _tags(suffix: str, tag: str) -> str:
    return "\n    ".join(
        tag.format(url=PREFIX + path, sri=sri)
        for path, sri in manifest().items()
        if path.endswith(suffix)
    )


def html(settings: Settings) -> str:
    config = {"query": SAMPLE_QUERY, "headers": demo.headers(USERS[0][0], settings)}
    # Inside <script>, "</" would end the element: JSON's \u escapes keep it out.
    inline = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e")
    return _template().substitute(
        stylesheets=_tags(".css", '<link rel="stylesheet" href="{url}" integrity="{sri}" />'),
        scripts=_tags(".js", '<script src="{url}" integrity="{sri}"></script>'),
        config=inline,
    )


def page(settings: Settings) -> Response:
    # It holds a token: never stored by a cache.
    return HTMLResponse(html(settings), headers={"Cache-Control": "no-store"})


async def asset(request: Request) -> Response:
    path = request.path_params["path"]
    if path not in manifest():  # only what the manifest lists: no path reaches the disk
        return Response("Not Found", 404, media_type="text/plain")
    media = MEDIA_TYPES.get(Path(path).suffix, "text/plain")
    return FileResponse(VENDOR / path, media_type=media, headers=IMMUTABLE)


def routes(settings: Settings) -> list[BaseRoute]:
    """The assets' route; none in production, where GraphiQL is off."""
    if settings.production:
        return []
    return [Route(PREFIX + "{path:path}", asset, methods=["GET"])]
