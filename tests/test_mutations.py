"""What each mutation does (API.md "Mutation"): ids and timestamps made by the server,
fields left out kept, updatedAt moving when (and only when) the contract says, status
transitions, payloads seen as the viewer now sees them, and the statements each costs."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import decode, decode_node, encode

from . import factories as f
from . import writes as w
from .graphql import codes, gql

PROJECT = """
query($id: ID!) {
  project(id: $id) {
    name updatedAt sessionCount thumbnailUrl lastActivityAt
    members { user { username } role joinedAt }
    sessions { edges { node { name isPrivate updatedAt } } }
    outputs { edges { node { fileUrl } } }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { id } }"


def ok(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body["errors"]
    return body["data"][field]


def count(body: dict[str, Any]) -> int:
    value: int = body["extensions"]["queries"]["count"]
    return value


@pytest.fixture
async def world(conn: f.Conn) -> w.World:
    return await w.build_world(conn)


async def _project(client: httpx.AsyncClient, world: w.World, kind: str) -> Any:
    body = await gql(client, PROJECT, {"id": world.project_id}, bearer=world.bearer[kind])
    return body["data"]["project"]


async def _do(
    client: httpx.AsyncClient, world: w.World, kind: str, document: str, **input: Any
) -> dict[str, Any]:
    return await w.mutate(client, document, {"input": input}, world.bearer[kind])


# Projects ---------------------------------------------------------------------------------


async def test_create_project_makes_the_viewer_owner_with_server_made_id_and_times(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    body = await _do(client, world, "outsider", w.CREATE_PROJECT, name="Mine")
    project = ok(body, "createProject")["project"]
    assert decode(project["id"], NodeType.PROJECT)
    assert project["viewerRole"] == "OWNER"
    assert (project["isShared"], project["description"], project["sessionCount"]) == (
        False,
        None,
        0,
    )
    assert project["createdAt"] == project["updatedAt"]
    _, key = decode_node(project["id"])
    assert await conn.fetchval("SELECT count(*) FROM project_stats WHERE project_id = $1", key)
    # BEGIN, insert, COMMIT; then the payload: the viewer's role, the project, its stats.
    assert count(body) == 1 + 3 + 2


async def test_update_project_keeps_left_out_fields_and_moves_updated_at_on_change(
    client: httpx.AsyncClient, world: w.World
) -> None:
    set_up = await _do(
        client, world, "admin", w.UPDATE_PROJECT, id=world.project_id,
        description="About", coverImageUrl="https://cdn.example/cover.png",
    )  # fmt: skip
    first = ok(set_up, "updateProject")["project"]
    assert (first["name"], first["description"], first["coverImageUrl"], first["isShared"]) == (
        "Studio",
        "About",
        "https://cdn.example/cover.png",
        True,
    )
    same = ok(
        await _do(client, world, "owner", w.UPDATE_PROJECT, id=world.project_id, name="Studio"),
        "updateProject",
    )["project"]
    assert same["updatedAt"] == first["updatedAt"]  # nothing changed
    cleared = ok(
        await _do(
            client, world, "owner", w.UPDATE_PROJECT, id=world.project_id,
            description=None, isShared=False,
        ),
        "updateProject",
    )["project"]  # fmt: skip
    assert (cleared["description"], cleared["isShared"], cleared["coverImageUrl"]) == (
        None,
        False,
        "https://cdn.example/cover.png",
    )
    assert cleared["updatedAt"] > first["updatedAt"]


async def test_a_renamed_project_comes_first_in_the_projects_list(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    other = await f.project(conn, world.people["owner"], "Other")
    await _do(
        client, world, "owner", w.UPDATE_PROJECT, id=encode(NodeType.PROJECT, other), name="X"
    )
    listed = await gql(
        client, "{ projects { edges { node { name } } } }", bearer=world.bearer["owner"]
    )
    assert listed["data"]["projects"]["edges"][0]["node"]["name"] == "X"


async def test_delete_project_removes_everything_in_it(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    body = await _do(client, world, "owner", w.DELETE_PROJECT, id=world.project_id)
    assert ok(body, "deleteProject") == {"deletedId": world.project_id}
    assert count(body) == 1 + 4  # role; BEGIN, lock and check, delete, COMMIT
    for table in ("sessions", "generations", "outputs", "published_outputs", "project_stats"):
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    gone = await gql(client, NODE, {"id": world.project_id}, bearer=world.bearer["owner"])
    assert gone["data"]["node"] is None


# Members ----------------------------------------------------------------------------------


async def test_add_member_then_change_role_keeps_joined_at(
    client: httpx.AsyncClient, world: w.World
) -> None:
    before = await _project(client, world, "owner")
    added = ok(
        await _do(
            client, world, "admin", w.ADD_MEMBER, projectId=world.project_id,
            userId=world.profile_id("outsider"), role="EDITOR",
        ),
        "addProjectMember",
    )["project"]  # fmt: skip
    assert added["updatedAt"] > before["updatedAt"]
    joined = {m["user"]["username"]: m for m in added["members"]}
    assert joined["outsider"]["role"] == "EDITOR"
    changed = ok(
        await _do(
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
    added = await _do(
        client, world, "owner", w.ADD_MEMBER, projectId=world.project_id,
        userId=world.profile_id(kind), role=role,
    )  # fmt: skip
    removed = await _do(
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
    added = await _do(
        client, world, "owner", w.ADD_MEMBER, projectId=world.project_id, userId=unknown,
        role="VIEWER",
    )  # fmt: skip
    removed = await _do(
        client, world, "owner", w.REMOVE_MEMBER, projectId=world.project_id,
        userId=world.profile_id("outsider"),
    )  # fmt: skip
    assert (codes(added), codes(removed)) == (["NOT_FOUND"], ["NOT_FOUND"])
    assert await w.digest(conn) == before


async def test_remove_member_takes_their_access(client: httpx.AsyncClient, conn: f.Conn) -> None:
    world = await w.build_world(conn, shared=False)
    body = await _do(
        client, world, "owner", w.REMOVE_MEMBER, projectId=world.project_id,
        userId=world.profile_id("editor"),
    )  # fmt: skip
    members = ok(body, "removeProjectMember")["project"]["members"]
    assert [m["user"]["username"] for m in members] == ["admin", "viewer"]
    gone = await gql(client, NODE, {"id": world.project_id}, bearer=world.bearer["editor"])
    assert gone["data"]["node"] is None
    # An ADMIN who removes themselves no longer sees the (unshared) project.
    self_removed = await _do(
        client, world, "admin", w.REMOVE_MEMBER, projectId=world.project_id,
        userId=world.profile_id("admin"),
    )  # fmt: skip
    assert ok(self_removed, "removeProjectMember") == {"project": None}


# Sessions ---------------------------------------------------------------------------------


async def test_new_sessions_are_private_for_the_owner_and_public_for_members(
    client: httpx.AsyncClient, world: w.World
) -> None:
    before = await _project(client, world, "owner")
    mine = ok(
        await _do(
            client, world, "owner", w.CREATE_SESSION, projectId=world.project_id,
            name="Mine", type="IMAGE",
        ),
        "createSession",
    )["session"]  # fmt: skip
    theirs = ok(
        await _do(
            client, world, "editor", w.CREATE_SESSION, projectId=world.project_id,
            name="Theirs", type="VIDEO",
        ),
        "createSession",
    )["session"]  # fmt: skip
    assert (mine["isPrivate"], mine["type"], mine["project"]["sessionCount"]) == (
        True,
        "IMAGE",
        3,
    )
    assert (theirs["isPrivate"], theirs["type"], theirs["project"]["sessionCount"]) == (
        False,
        "VIDEO",
        2,  # the editor sees the public sessions only
    )
    assert theirs["createdAt"] == theirs["updatedAt"]
    after = await _project(client, world, "owner")
    assert after["updatedAt"] == before["updatedAt"]  # sessions do not move the project
    assert after["sessions"]["edges"][0]["node"]["name"] == "Theirs"


async def test_update_session_moves_updated_at_on_rename_and_privacy_change_only(
    client: httpx.AsyncClient, world: w.World
) -> None:
    sid = world.public.ids()["session"]
    renamed = ok(
        await _do(client, world, "editor", w.UPDATE_SESSION, id=sid, name="Renamed"),
        "updateSession",
    )["session"]
    unchanged = ok(
        await _do(client, world, "editor", w.UPDATE_SESSION, id=sid, isPrivate=False),
        "updateSession",
    )["session"]
    assert unchanged == renamed
    hidden = ok(
        await _do(client, world, "owner", w.UPDATE_SESSION, id=sid, isPrivate=True),
        "updateSession",
    )["session"]
    assert hidden["isPrivate"]
    assert hidden["updatedAt"] > renamed["updatedAt"]
    assert (await _project(client, world, "editor"))["sessionCount"] == 0
    invisible = await _do(client, world, "editor", w.UPDATE_SESSION, id=sid, name="Again")
    assert codes(invisible) == ["NOT_FOUND"]


async def test_delete_session_updates_every_viewers_card(
    client: httpx.AsyncClient, world: w.World
) -> None:
    body = await _do(client, world, "owner", w.DELETE_SESSION, id=world.private.ids()["session"])
    assert ok(body, "deleteSession") == {"deletedId": world.private.ids()["session"]}
    owner, member = await _project(client, world, "owner"), await _project(client, world, "viewer")
    assert (owner["sessionCount"], member["sessionCount"]) == (1, 1)
    assert owner["thumbnailUrl"] == member["thumbnailUrl"] is not None


# Generations ------------------------------------------------------------------------------


async def test_create_generation_is_processing_run_by_the_viewer_and_moves_the_session(
    client: httpx.AsyncClient, world: w.World
) -> None:
    sid = world.public.ids()["session"]
    before = (await _project(client, world, "owner"))["sessions"]["edges"]
    body = await _do(
        client, world, "editor", w.CREATE_GENERATION, sessionId=sid,
        modelId="gemini-nano-banana-pro", prompt="a cat", negativePrompt="dogs",
        parameters={"aspectRatio": "1:1", "debug": {"trace": "x"}},
    )  # fmt: skip
    generation = ok(body, "createGeneration")["generation"]
    assert generation["status"] == "PROCESSING"
    assert generation["user"] == {"username": "editor"}
    assert generation["parameters"] == {"aspectRatio": "1:1", "debug": {"trace": "x"}}
    assert (generation["cost"], generation["outputs"]) == (None, [])
    assert generation["session"]["updatedAt"] > before[-1]["node"]["updatedAt"]
    # BEGIN, lock and check the session, insert (and touch the session), COMMIT.
    assert count(body) == 1 + 4 + 4  # + payload: generation, user, session, outputs
    default = ok(
        await _do(client, world, "owner", w.CREATE_GENERATION, sessionId=sid, modelId="m",
                  prompt=""),
        "createGeneration",
    )["generation"]  # fmt: skip
    assert default["parameters"] == {}


async def test_complete_generation_inserts_outputs_and_publishes_them_once(
    client: httpx.AsyncClient, world: w.World
) -> None:
    created = await _do(
        client, world, "editor", w.CREATE_GENERATION, sessionId=world.public.ids()["session"],
        modelId="m", prompt="p",
    )  # fmt: skip
    gid = ok(created, "createGeneration")["generation"]["id"]
    video = {"fileUrl": "http://cdn.example/v.mp4", "fileType": "VIDEO", "duration": 4.5}
    body = await _do(
        client, world, "editor", w.COMPLETE_GENERATION, id=gid,
        outputs=[w.IMAGE, w.IMAGE, video], cost="0.039",
    )  # fmt: skip
    generation = ok(body, "completeGeneration")["generation"]
    assert (generation["status"], generation["cost"]) == ("COMPLETED", "0.039000")
    outputs = generation["outputs"]
    assert sorted(o["fileType"] for o in outputs) == ["IMAGE", "IMAGE", "VIDEO"]
    assert len({o["createdAt"] for o in outputs}) == 1
    assert next(o["duration"] for o in outputs if o["fileType"] == "VIDEO") == 4.5
    assert count(body) == 1 + 5 + 2  # BEGIN, check, status, outputs, COMMIT; payload
    card = await _project(client, world, "viewer")
    assert card["thumbnailUrl"] == w.IMAGE["fileUrl"]
    assert card["lastActivityAt"] == outputs[0]["createdAt"]
    again = await _do(client, world, "editor", w.COMPLETE_GENERATION, id=gid, outputs=[w.IMAGE])
    assert codes(again) == ["BAD_USER_INPUT"]
    assert len((await _project(client, world, "owner"))["outputs"]["edges"]) == 5


@pytest.mark.parametrize(
    ("document", "field", "status"),
    [
        (w.FAIL_GENERATION, "failGeneration", "FAILED"),
        (w.CANCEL_GENERATION, "cancelGeneration", "CANCELLED"),
        (w.DISMISS_GENERATION, "dismissGeneration", "DISMISSED"),
    ],
)
async def test_unfinished_generations_can_fail_cancel_or_be_dismissed_once(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn, document: str, field: str,
    status: str,
) -> None:  # fmt: skip
    gid = world.public.ids()["processing"]
    body = await _do(client, world, "admin", document, id=gid)
    assert ok(body, field)["generation"] == {"id": gid, "status": status}
    before = await w.digest(conn)
    for later in (w.COMPLETE_GENERATION, w.FAIL_GENERATION, w.CANCEL_GENERATION):
        variables: dict[str, Any] = {"id": gid}
        if later is w.COMPLETE_GENERATION:
            variables["outputs"] = []
        assert codes(await _do(client, world, "admin", later, **variables)) == ["BAD_USER_INPUT"]
    dismissed = await _do(client, world, "admin", w.DISMISS_GENERATION, id=gid)
    assert codes(dismissed) == ([] if status != "DISMISSED" else ["BAD_USER_INPUT"])
    if status == "DISMISSED":
        assert await w.digest(conn) == before


async def test_dismissing_the_thumbnails_generation_picks_the_next_one(
    client: httpx.AsyncClient, world: w.World
) -> None:
    before = await _project(client, world, "owner")
    assert before["thumbnailUrl"] is not None
    await _do(client, world, "owner", w.DISMISS_GENERATION, id=world.private.ids()["completed"])
    after = await _project(client, world, "owner")
    member = await _project(client, world, "viewer")
    assert after["thumbnailUrl"] == member["thumbnailUrl"] != before["thumbnailUrl"]
    assert len(after["outputs"]["edges"]) == 1


# Outputs ----------------------------------------------------------------------------------


async def test_update_output_sets_only_the_given_flags(
    client: httpx.AsyncClient, world: w.World
) -> None:
    oid = world.public.ids()["output"]
    first = ok(await _do(client, world, "editor", w.UPDATE_OUTPUT, id=oid, isStarred=True),
               "updateOutput")  # fmt: skip
    second = ok(await _do(client, world, "editor", w.UPDATE_OUTPUT, id=oid, isApproved=True),
                "updateOutput")  # fmt: skip
    assert first["output"] == {"id": oid, "isStarred": True, "isApproved": False}
    assert second["output"] == {"id": oid, "isStarred": True, "isApproved": True}


async def test_deleting_the_thumbnail_output_recomputes_it(
    client: httpx.AsyncClient, world: w.World
) -> None:
    body = await _do(client, world, "owner", w.DELETE_OUTPUT, id=world.public.ids()["output"])
    assert ok(body, "deleteOutput") == {"deletedId": world.public.ids()["output"]}
    member = await _project(client, world, "viewer")
    assert (member["thumbnailUrl"], member["lastActivityAt"], member["outputs"]["edges"]) == (
        None,
        None,
        [],
    )
    assert (await _project(client, world, "owner"))["thumbnailUrl"] is not None


# The request as a whole -------------------------------------------------------------------


async def test_mutations_of_one_request_run_in_order_and_each_sees_the_last(
    client: httpx.AsyncClient, world: w.World
) -> None:
    document = """
    mutation($id: ID!, $project: ID!) {
      a: updateProject(input: {id: $id, name: "One"}) { project { name } }
      b: updateProject(input: {id: $id, name: "Two"}) { project { name } }
      c: createSession(input: {projectId: $project, name: "S", type: IMAGE}) {
        session { project { sessionCount } }
      }
    }"""
    body = await w.mutate(
        client, document, {"id": world.project_id, "project": world.project_id},
        world.bearer["owner"],
    )  # fmt: skip
    assert "errors" not in body, body
    assert body["data"]["a"]["project"]["name"] == "One"
    assert body["data"]["b"]["project"]["name"] == "Two"
    assert body["data"]["c"]["session"]["project"]["sessionCount"] == 3


async def test_racing_completions_of_one_generation_succeed_once(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    gid = world.public.ids()["processing"]
    bodies = await asyncio.gather(
        *(
            _do(client, world, kind, w.COMPLETE_GENERATION, id=gid, outputs=[w.IMAGE] * 4)
            for kind in ("owner", "admin", "editor", "owner", "admin", "editor")
        )
    )
    assert sorted(tuple(codes(b)) for b in bodies) == [()] + [("BAD_USER_INPUT",)] * 5
    _, key = decode_node(gid)
    assert await conn.fetchval("SELECT count(*) FROM outputs WHERE generation_id = $1", key) == 4
