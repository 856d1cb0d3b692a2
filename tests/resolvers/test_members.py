"""Project members (resolvers/members.py): adding, re-rolling and removing members."""

from __future__ import annotations

import uuid

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support import factories as f
from tests.support import writes as w
from tests.support.graphql import codes, gql

from .shared import NODE, do_as, ok, project_as


async def test_add_member_then_change_role_keeps_joined_at(
    client: httpx.AsyncClient, world: w.World
) -> None:
    before = await project_as(client, world, "owner")
    added = ok(
        await do_as(
            client, world, "admin", w.ADD_MEMBER, projectId=world.project_id,
            userId=world.profile_id("outsider"), role="EDITOR",
        ),
        "addProjectMember",
    )["project"]  # fmt: skip
    assert added["updatedAt"] > before["updatedAt"]
    joined = {m["user"]["username"]: m for m in added["members"]}
    assert joined["outsider"]["role"] == "EDITOR"
    changed = ok(
        await do_as(
            client, world, "owner", w.ADD_MEMBER, projectId=world.project_id,
            userId=world.profile_id("outsider"), role="VIEWER",
        ),
        "addProjectMember",
    )["project"]  # fmt: skip
    again = {m["user"]["username"]: m for m in changed["members"]}
    assert again["outsider"]["role"] == "VIEWER"
    assert again["outsider"]["joinedAt"] == joined["outsider"]["joinedAt"]
    assert len(changed["members"]) == 4
    member_list = await gql(
        client, "{ projects(scope: MEMBER) { edges { node { name viewerRole } } } }",
        bearer=world.bearer["outsider"],
    )  # fmt: skip
    assert member_list["data"]["projects"]["edges"] == [
        {"node": {"name": "Studio", "viewerRole": "VIEWER"}}
    ]


@pytest.mark.parametrize(
    ("kind", "role", "code"),
    [("owner", "EDITOR", "BAD_USER_INPUT"), ("outsider", "OWNER", "BAD_USER_INPUT")],
)
async def test_the_owner_is_never_a_member(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn, kind: str, role: str, code: str
) -> None:
    before = await w.digest(conn)
    added = await do_as(
        client, world, "owner", w.ADD_MEMBER, projectId=world.project_id,
        userId=world.profile_id(kind), role=role,
    )  # fmt: skip
    removed = await do_as(
        client, world, "owner", w.REMOVE_MEMBER, projectId=world.project_id,
        userId=world.profile_id("owner"),
    )  # fmt: skip
    assert (codes(added), codes(removed)) == ([code], ["BAD_USER_INPUT"])
    assert await w.digest(conn) == before


async def test_member_changes_of_unknown_profiles_and_non_members_are_not_found(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    before = await w.digest(conn)
    unknown = encode(NodeType.PROFILE, uuid.uuid4())
    added = await do_as(
        client, world, "owner", w.ADD_MEMBER, projectId=world.project_id, userId=unknown,
        role="VIEWER",
    )  # fmt: skip
    removed = await do_as(
        client, world, "owner", w.REMOVE_MEMBER, projectId=world.project_id,
        userId=world.profile_id("outsider"),
    )  # fmt: skip
    assert (codes(added), codes(removed)) == (["NOT_FOUND"], ["NOT_FOUND"])
    assert await w.digest(conn) == before


async def test_remove_member_takes_their_access(client: httpx.AsyncClient, conn: f.Conn) -> None:
    world = await w.build_world(conn, shared=False)
    body = await do_as(
        client, world, "owner", w.REMOVE_MEMBER, projectId=world.project_id,
        userId=world.profile_id("editor"),
    )  # fmt: skip
    members = ok(body, "removeProjectMember")["project"]["members"]
    assert [m["user"]["username"] for m in members] == ["admin", "viewer"]
    gone = await gql(client, NODE, {"id": world.project_id}, bearer=world.bearer["editor"])
    assert gone["data"]["node"] is None
    # An ADMIN who removes themselves no longer sees the (unshared) project.
    self_removed = await do_as(
        client, world, "admin", w.REMOVE_MEMBER, projectId=world.project_id,
        userId=world.profile_id("admin"),
    )  # fmt: skip
    assert ok(self_removed, "removeProjectMember") == {"project": None}
