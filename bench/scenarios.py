"""The GraphQL requests the benchmark times, as the front end sends them.

Reads: the projects list (first page, and a page ~1,000 projects deep), a project page with
its first 20 sessions, and a gallery page of 40. Mixed: 90 % of those reads and 10 % writes
in the largest project (create a generation, complete it with four images, star one of
them), each client writing its own generations. Every response must be free of `errors`.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .cards import PAGE
from .load import Outcome, Step

CARD = """id name description isShared updatedAt owner { displayName username }
sessionCount thumbnailUrl"""


def projects_page(size: int) -> str:
    """The projects page as the front end asks for it: `size` cards with their cursors."""
    return f"""query Projects($after: String) {{
  projects(first: {size}, after: $after) {{
    edges {{ cursor node {{ {CARD} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


PROJECTS = projects_page(PAGE)
WIDE = 50  # cards of the wide projects page
PROJECTS_WIDE = projects_page(WIDE)
WALK = """query Walk($after: String) {
  projects(first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } }
}"""
PROJECT_PAGE = """query ProjectPage($id: ID!) {
  project(id: $id) {
    id name isShared owner { displayName username }
    sessions(first: 20) {
      edges { node { id name type isPrivate updatedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
GALLERY = """query Gallery($id: ID!) {
  project(id: $id) {
    outputs(first: 40) {
      edges {
        cursor
        node {
          id fileUrl fileType width height duration isApproved createdAt
          generation { id prompt modelId status createdAt user { displayName } parameters }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
CREATE_GENERATION = """mutation Create($input: CreateGenerationInput!) {
  createGeneration(input: $input) { generation { id status } }
}"""
COMPLETE_GENERATION = """mutation Complete($input: CompleteGenerationInput!) {
  completeGeneration(input: $input) { generation { id status outputs { id } } }
}"""
UPDATE_OUTPUT = """mutation Star($input: UpdateOutputInput!) {
  updateOutput(input: $input) { output { id isStarred } }
}"""

DEEP = 1_000  # the deep page starts after this many projects (or as deep as the list goes)
WRITE_EVERY = 10  # one request in ten of the mixed scenario is a write
IMAGES = 4  # outputs of each completed generation


@dataclass(frozen=True, slots=True)
class Request:
    bearer: str
    query: str
    variables: dict[str, Any]


class ApiError(Exception):
    """A set-up request answered errors."""


@dataclass(frozen=True, slots=True)
class Api:
    """POST /graphql of one server through one keep-alive session."""

    session: aiohttp.ClientSession
    url: str

    async def send(self, request: Request) -> tuple[Outcome, dict[str, Any]]:
        body = {"query": request.query, "variables": request.variables}
        headers = {"Authorization": f"Bearer {request.bearer}"}
        async with self.session.post(self.url, json=body, headers=headers) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
            status = response.status
        if status != 200 or "errors" in answer:
            return Outcome(error=f"HTTP {status}: {answer.get('errors')}"), answer
        queries = answer.get("extensions", {}).get("queries", {})
        return Outcome(statements=queries.get("count")), answer

    async def data(self, request: Request) -> dict[str, Any]:
        """The response of a request that must succeed (set-up, checks)."""
        outcome, answer = await self.send(request)
        if outcome.error is not None:
            raise ApiError(outcome.error)
        return answer

    def step(self, request: Request) -> Step:
        async def send() -> Outcome:
            return (await self.send(request))[0]

        return send


async def deep_cursor(api: Api, bearer: str) -> str | None:
    """The `after` cursor of a page that starts DEEP projects into the viewer's list, found
    by walking it 100 at a time; shallower when the list is shorter (a full page after it
    when there is one). None when the list is too short to have a second page."""
    cursors: list[str] = []
    after: str | None = None
    while len(cursors) < DEEP + PAGE:
        answer = await api.data(Request(bearer, WALK, {"after": after}))
        page = answer["data"]["projects"]
        cursors += [edge["cursor"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    depth = min(DEEP, len(cursors) - PAGE)
    if depth < 1:
        depth = len(cursors) // 2
    return cursors[depth - 1] if depth >= 1 else None


class _Writer:
    """One client's write cycle: create a generation, complete it with four images, then
    toggle the star of one of them; a failed step starts the cycle again."""

    def __init__(self, api: Api, bearer: str, session_id: str, model: str) -> None:
        self.api, self.bearer, self.session_id, self.model = api, bearer, session_id, model
        self.generation: str | None = None
        self.output: str | None = None
        self.starred = False

    def _next(self) -> Request:
        if self.output is not None:
            self.starred = not self.starred
            variables = {"input": {"id": self.output, "isStarred": self.starred}}
            return Request(self.bearer, UPDATE_OUTPUT, variables)
        if self.generation is not None:
            outputs = [
                {"fileUrl": f"https://cdn.example/bench/{uuid.uuid4().hex}.png",
                 "fileType": "IMAGE", "width": 1024, "height": 1024}
                for _ in range(IMAGES)
            ]  # fmt: skip
            variables = {"input": {"id": self.generation, "outputs": outputs, "cost": "0.039"}}
            return Request(self.bearer, COMPLETE_GENERATION, variables)
        variables = {
            "input": {"sessionId": self.session_id, "modelId": self.model,
                      "prompt": "a lighthouse at dusk, benchmark", "parameters": {"numOutputs": 4}}
        }  # fmt: skip
        return Request(self.bearer, CREATE_GENERATION, variables)

    async def step(self) -> Outcome:
        request = self._next()
        outcome, answer = await self.api.send(request)
        if outcome.error is not None:
            self.generation = self.output = None
        elif request.query == CREATE_GENERATION:
            self.generation = answer["data"]["createGeneration"]["generation"]["id"]
        elif request.query == COMPLETE_GENERATION:
            generation = answer["data"]["completeGeneration"]["generation"]
            self.generation, self.output = None, generation["outputs"][0]["id"]
        else:
            self.output = None
        return outcome


def mixed(
    api: Api, reads: list[Request], *, bearer: str, session_id: str, model: str
) -> Callable[[], Step]:
    """Workers of the mixed scenario: reads in rotation, every WRITE_EVERY-th request a
    write step by the worker's own writer (workers are offset so their writes spread)."""
    workers = itertools.count()

    def worker() -> Step:
        writer = _Writer(api, bearer, session_id, model)
        rotation = itertools.cycle([api.step(r) for r in reads])
        requests = itertools.count(next(workers))

        async def step() -> Outcome:
            if next(requests) % WRITE_EVERY == WRITE_EVERY - 1:
                return await writer.step()
            return await next(rotation)()

        return step

    return worker
