"""GraphiQL served by the server itself (web/): the vendored files are the manifest's, the
page names only the server's own paths with their SRI hashes, the assets carry exact media
types and a year's caching. In a real browser (slow), with every foreign request refused, the
page renders, documents the schema, runs its sample query on the demo data and subscribes
over WebSocket at the same URL.

`GRAPHIQL_SCREENSHOT=docs/graphiql-offline.png` keeps the browser test's screenshot (that
is how the one in docs/ was taken).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Page, Route, async_playwright

from auth import tokens
from db.ops.demo import DEMO_USERS, load_demo
from settings import ROOT, Settings
from tests.support.graphql import gql
from tests.support.live import serving
from web import graphiql, update

MANIFEST: list[dict[str, Any]] = json.loads((graphiql.VENDOR / "manifest.json").read_text())[
    "packages"
]
HTML = {"Accept": "text/html"}
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def _sri(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def _config(page: str) -> dict[str, Any]:
    found = re.search(r'id="graphiql-config">(.*?)</script>', page, re.DOTALL)
    assert found, page
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def test_vendored_files_are_those_of_the_manifest() -> None:
    listed = {file["path"]: file for package in MANIFEST for file in package["files"]}
    on_disk = {path.relative_to(graphiql.VENDOR).as_posix() for path in graphiql.VENDOR.glob("*/*")}
    assert on_disk == set(listed)
    for path, file in listed.items():
        data = (graphiql.VENDOR / path).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (file["sha256"], file["size"]), path


def test_the_manifest_holds_the_pinned_versions() -> None:
    pinned = [(pin.package, pin.version) for pin in update.PINS]
    assert [(package["package"], package["version"]) for package in MANIFEST] == pinned
    assert all(package["integrity"].startswith("sha512-") for package in MANIFEST)


def test_update_refuses_a_tarball_that_is_not_the_published_one() -> None:
    tarball = b"a tarball"
    update.verify(tarball, "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode())
    with pytest.raises(update.IntegrityError):
        update.verify(b"another tarball", MANIFEST[0]["integrity"])
    with pytest.raises(update.IntegrityError):
        update.verify(tarball, "sha1-" + base64.b64encode(hashlib.sha1(tarball).digest()).decode())


async def test_page_names_only_the_servers_own_paths(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"  # it holds a token
    assert "://" not in response.text
    urls = re.findall(r'(?:src|href)="([^"]*)"', response.text)
    assert [url for url in urls if not url.startswith(("/graphiql/", "data:"))] == []
    tags = re.findall(r'(?:src|href)="(/[^"]*)" integrity="([^"]+)"', response.text)
    assert sorted(url for url, _ in tags) == sorted(
        f"/graphiql/{path}" for path in graphiql.manifest() if path.endswith((".css", ".js"))
    )
    for url, integrity in tags:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"] == MEDIA_TYPES[Path(url).suffix]
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert _sri(asset.content) == integrity, url


async def test_page_opens_as_the_first_demo_user_with_a_sample_query_that_runs(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    config = _config((await client.get("/graphql", headers=HTML)).text)
    headers = json.loads(config["headers"])
    assert list(headers) == ["Authorization"]
    bearer = headers["Authorization"].removeprefix("Bearer ")
    claims = tokens.decode(bearer, secret=settings.jwt_secret, audience=settings.jwt_audience)
    assert claims.subject == DEMO_USERS["alice"]
    assert config["query"] == graphiql.SAMPLE_QUERY
    body = await gql(client, config["query"], bearer=bearer)
    assert body["data"] == {"projects": {"edges": []}}  # valid against the schema


async def test_only_the_manifests_files_are_served(client: httpx.AsyncClient) -> None:
    for path in ("manifest.json", "graphiql@3.9.0/graphiql.min.js.map", "graphiql.html", ""):
        assert (await client.get(f"/graphiql/{path}")).status_code == 404, path


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium not found: apt-get install chromium", pytrace=False)
    return path


@dataclass
class Offline:
    """GraphiQL open in headless Chromium, served over HTTP on 127.0.0.1, the network cut
    off: anything not for the server fails, and is noted."""

    origin: str
    secret: str  # the server's, for tokens of its own
    page: Page
    requested: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # uncaught errors in the page

    def editor(self, pane: str) -> str:
        """JavaScript for the CodeMirror instance of a pane (its whole text, not what is drawn)."""
        return f"document.querySelector('{pane} .CodeMirror').CodeMirror"

    async def result(self) -> Any:
        return json.loads(await self.page.evaluate(f"{self.editor('.result-window')}.getValue()"))

    async def held(self, *, subscriptions: int) -> None:
        """Until the server holds that many subscriptions and listens (its /metrics say so)."""
        wanted = {"vesper_subscriptions": float(subscriptions), "vesper_events_listening": 1.0}
        async with httpx.AsyncClient(base_url=self.origin) as http:
            for _ in range(100):
                text = (await http.get("/metrics")).text
                found = dict(re.findall(r"^(vesper_\w+) (\S+)$", text, re.MULTILINE))
                if all(float(found.get(name, "nan")) == value for name, value in wanted.items()):
                    return
                await asyncio.sleep(0.05)
        pytest.fail(f"the server does not hold {subscriptions} subscription(s)", pytrace=False)

    async def api(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the API answers the first demo user, outside the browser."""
        alice = tokens.issue(DEMO_USERS["alice"], secret=self.secret)
        async with httpx.AsyncClient(base_url=self.origin) as http:
            return await gql(http, query, variables, bearer=alice)


@asynccontextmanager
async def offline_graphiql(settings: Settings) -> AsyncIterator[Offline]:
    chromium = _chromium()
    async with serving(settings) as ws_url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            origin = ws_url.replace("ws://", "http://", 1).removesuffix("/graphql")
            offline = Offline(origin, settings.jwt_secret, await context.new_page())

            async def refuse(route: Route) -> None:
                offline.foreign.append(route.request.url)
                await route.abort()

            await context.route(lambda url: not url.startswith(f"{origin}/"), refuse)
            offline.page.on("request", lambda request: offline.requested.append(request.url))
            offline.page.on("pageerror", lambda error: offline.failures.append(str(error)))
            await offline.page.goto(f"{origin}/graphql")
            await offline.page.wait_for_selector(".graphiql-query-editor .CodeMirror")
            yield offline
        finally:
            await browser.close()
    assert offline.failures == []
    assert offline.foreign == []
    assert f"{origin}/graphql" in offline.requested
    assert [url for url in offline.requested if not url.startswith(f"{origin}/")] == []


@pytest.mark.slow  # a real server and a real browser
async def test_graphiql_runs_the_sample_query_with_no_network(
    settings: Settings, conn: asyncpg.Connection[Any]
) -> None:
    await load_demo(conn)
    async with offline_graphiql(settings) as offline:
        page = offline.page
        await page.click('[aria-label="Show Documentation Explorer"]')
        await page.get_by_role("link", name="Query", exact=True).first.click()
        explorer = page.locator(".graphiql-doc-explorer-content")
        await explorer.get_by_role("link", name="projects", exact=True).wait_for()

        await page.click(".graphiql-execute-button")
        await page.locator(".result-window").get_by_text('"data"').wait_for()
        result = await offline.result()
        if screenshot := os.environ.get("GRAPHIQL_SCREENSHOT"):
            await page.screenshot(path=ROOT / screenshot)
        expected = await offline.api(graphiql.SAMPLE_QUERY)
    assert result["data"]["projects"]["edges"], result
    assert result["data"] == expected["data"]


OWNED = "{ projects(first: 1, scope: OWNED) { edges { node { id } } } }"
WATCH = "subscription Watch($id: ID!) { projectActivity(projectId: $id) { project { name } } }"
RENAME = (
    'mutation($id: ID!) { updateProject(input: {id: $id, name: "Renamed"}) { project { id } } }'
)


@pytest.mark.slow  # a real server and a real browser
async def test_graphiql_subscribes_over_websocket_at_the_same_url(
    settings: Settings, conn: asyncpg.Connection[Any]
) -> None:
    await load_demo(conn)
    async with offline_graphiql(settings) as offline:
        page = offline.page
        owned = await offline.api(OWNED)
        project = owned["data"]["projects"]["edges"][0]["node"]["id"]
        query_editor = offline.editor(".graphiql-query-editor")
        await page.evaluate(f"q => {query_editor}.setValue(q)", WATCH)
        await page.get_by_role("button", name="Variables", exact=True).click()
        # The tab just opened: the variables editor (the headers one is hidden).
        variables_editor = offline.editor(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
        await page.evaluate(f"v => {variables_editor}.setValue(v)", json.dumps({"id": project}))
        # GraphiQL reads the operation's name a moment after an edit (debounced).
        await page.wait_for_function(f"{query_editor}.operationName === 'Watch'")
        async with page.expect_websocket() as opened:
            await page.click(".graphiql-execute-button")
        socket = await opened.value
        await offline.held(subscriptions=1)
        await offline.api(RENAME, {"id": project})
        await page.locator(".result-window").get_by_text('"Renamed"').wait_for()
        result = await offline.result()
    assert socket.url == offline.origin.replace("http://", "ws://", 1) + "/graphql"
    assert result == {"data": {"projectActivity": {"project": {"name": "Renamed"}}}}
