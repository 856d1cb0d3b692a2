"""Permissions (API.md "Permissions"): every mutation by the owner, an ADMIN, an EDITOR and
a VIEWER member, a viewer who sees the project only because it is shared, and an outsider.

Allowed writes change the tables; refused ones answer FORBIDDEN when the viewer sees the
target and NOT_FOUND when they do not (private sessions are invisible to members), and
leave every table exactly as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support import factories as f
from tests.support import writes as w
from tests.support.graphql import codes

BOTH_PATHS = True  # each test straight to PostgreSQL and through the pooler (conftest)

MANAGE = frozenset({"owner", "admin"})
DELETE = frozenset({"owner"})
EDIT = frozenset({"owner", "admin", "editor"})
NOBODY_BUT_OWNER = frozenset({"owner"})


@dataclass(frozen=True)
class Case:
    document: str
    input: Callable[[w.World, w.Place], dict[str, Any]]
    allowed: frozenset[str]
    private: bool = False  # acts on the private session (members cannot see it)

    def expected(self, kind: str) -> str:
        if kind == "outsider" or (self.private and kind != "owner"):
            return "NOT_FOUND"
        return "ok" if kind in self.allowed else "FORBIDDEN"


def _content_cases(private: bool) -> dict[str, Case]:
    def case(document: str, make: Callable[[w.World, w.Place], dict[str, Any]]) -> Case:
        return Case(document, make, EDIT, private)

    return {
        "updateSession": case(
            w.UPDATE_SESSION, lambda _, p: {"id": p.ids()["session"], "name": "Renamed"}
        ),
        "deleteSession": case(w.DELETE_SESSION, lambda _, p: {"id": p.ids()["session"]}),
        "createGeneration": case(
            w.CREATE_GENERATION,
            lambda _, p: {"sessionId": p.ids()["session"], "modelId": "m", "prompt": "p"},
        ),
        "completeGeneration": case(
            w.COMPLETE_GENERATION, lambda _, p: {"id": p.ids()["processing"], "outputs": [w.IMAGE]}
        ),
        "failGeneration": case(w.FAIL_GENERATION, lambda _, p: {"id": p.ids()["processing"]}),
        "cancelGeneration": case(w.CANCEL_GENERATION, lambda _, p: {"id": p.ids()["processing"]}),
        "dismissGeneration": case(w.DISMISS_GENERATION, lambda _, p: {"id": p.ids()["completed"]}),
        "updateOutput": case(
            w.UPDATE_OUTPUT, lambda _, p: {"id": p.ids()["output"], "isStarred": True}
        ),
        "deleteOutput": case(w.DELETE_OUTPUT, lambda _, p: {"id": p.ids()["output"]}),
    }


CASES: dict[str, Case] = {
    "updateProject": Case(
        w.UPDATE_PROJECT, lambda x, _: {"id": x.project_id, "name": "New"}, MANAGE
    ),
    "updateProject cover": Case(
        w.UPDATE_PROJECT,
        lambda x, _: {"id": x.project_id, "coverImageUrl": "https://cdn.example/c.png"},
        MANAGE,
    ),
    "deleteProject": Case(w.DELETE_PROJECT, lambda x, _: {"id": x.project_id}, DELETE),
    "addProjectMember": Case(
        w.ADD_MEMBER,
        lambda x, _: {"projectId": x.project_id, "userId": x.profile_id("root"), "role": "EDITOR"},
        MANAGE,
    ),
    "addProjectMember role change": Case(
        w.ADD_MEMBER,
        lambda x, _: {"projectId": x.project_id, "userId": x.profile_id("viewer"), "role": "ADMIN"},
        MANAGE,
    ),
    "removeProjectMember": Case(
        w.REMOVE_MEMBER,
        lambda x, _: {"projectId": x.project_id, "userId": x.profile_id("editor")},
        MANAGE,
    ),
    "createSession": Case(
        w.CREATE_SESSION,
        lambda x, _: {"projectId": x.project_id, "name": "S", "type": "IMAGE"},
        EDIT,
    ),
    "createSession public": Case(
        w.CREATE_SESSION,
        lambda x, _: {"projectId": x.project_id, "name": "S", "type": "VIDEO", "isPrivate": False},
        EDIT,
    ),
    "createSession private": Case(
        w.CREATE_SESSION,
        lambda x, _: {"projectId": x.project_id, "name": "S", "type": "IMAGE", "isPrivate": True},
        NOBODY_BUT_OWNER,
    ),
    "updateSession make private": Case(
        w.UPDATE_SESSION,
        lambda _, p: {"id": p.ids()["session"], "isPrivate": True},
        NOBODY_BUT_OWNER,
    ),
    **{f"{name} (public session)": case for name, case in _content_cases(False).items()},
    **{f"{name} (private session)": case for name, case in _content_cases(True).items()},
}


@pytest.mark.parametrize("name", list(CASES))
async def test_mutation_permissions_for_every_kind_of_viewer(
    name: str, client: httpx.AsyncClient, conn: f.Conn
) -> None:
    case = CASES[name]
    for kind in w.KINDS:
        world = await w.build_world(conn, shared=kind != "outsider", tag=f"-{kind}")
        place = world.private if case.private else world.public
        variables = {"input": case.input(world, place)}
        before = await w.digest(conn)
        body = await w.mutate(client, case.document, variables, world.bearer[kind])
        after = await w.digest(conn)
        expected = case.expected(kind)
        if expected == "ok":
            assert "errors" not in body, (kind, body)
            assert after != before, kind
        else:
            assert codes(body) == [expected], (kind, body)
            assert body["data"] is None, kind
            assert after == before, kind


async def test_only_administrators_may_repair_project_stats(
    client: httpx.AsyncClient, conn: f.Conn
) -> None:
    world = await w.build_world(conn)
    for kind in w.KINDS:
        body = await w.mutate(client, w.REPAIR, {"input": {}}, world.bearer[kind])
        assert codes(body) == ["FORBIDDEN"], kind
    body = await w.mutate(client, w.REPAIR, {"input": {}}, world.bearer["root"])
    assert body["data"]["repairProjectStats"] == {"checked": 1, "drifted": 0, "repaired": 0}


async def test_administrators_get_no_extra_read_rights_from_repair(
    client: httpx.AsyncClient, conn: f.Conn
) -> None:
    world = await w.build_world(conn, shared=False)
    variables = {"input": {"projectId": world.project_id}}
    body = await w.mutate(client, w.REPAIR, variables, world.bearer["root"])
    assert codes(body) == ["NOT_FOUND"]
    missing = {"input": {"projectId": encode(NodeType.PROJECT, uuid.uuid4())}}
    body = await w.mutate(client, w.REPAIR, missing, world.bearer["root"])
    assert codes(body) == ["NOT_FOUND"]
