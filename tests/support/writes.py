"""Shared pieces of the mutation tests: a project with one person of every kind, the
mutation documents, and a digest of every table a write can touch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from domain.vocabulary import NodeType
from resolvers.ids import encode

from . import factories as f
from .graphql import post, token

# Every table a mutation (or its triggers) writes.
TABLES = (
    "projects",
    "project_members",
    "sessions",
    "generations",
    "outputs",
    "published_outputs",
    "member_projects",
    "project_stats",
    "vesper_project_deletions",
)

KINDS = ("owner", "admin", "editor", "viewer", "shared", "outsider")


async def digest(conn: f.Conn) -> dict[str, str | None]:
    """One hash per table of all its rows: equal digests mean nothing was written."""
    return {
        table: await conn.fetchval(
            f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t"
        )
        for table in TABLES
    }


@dataclass
class Place:
    """A session with a PROCESSING generation and a COMPLETED one with an image."""

    session: uuid.UUID
    processing: uuid.UUID
    completed: uuid.UUID
    output: uuid.UUID

    def ids(self) -> dict[str, str]:
        return {
            "session": encode(NodeType.SESSION, self.session),
            "processing": encode(NodeType.GENERATION, self.processing),
            "completed": encode(NodeType.GENERATION, self.completed),
            "output": encode(NodeType.OUTPUT, self.output),
        }


@dataclass
class World:
    """Project "Studio" owned by `owner`, with an ADMIN, an EDITOR and a VIEWER member, a
    public and a private session; `shared` and `outsider` are strangers to it (Studio is
    shared when the world is built with `shared=True`); `root` is an administrator."""

    people: dict[str, uuid.UUID]
    project: uuid.UUID
    public: Place
    private: Place
    bearer: dict[str, str] = field(default_factory=dict)

    @property
    def project_id(self) -> str:
        return encode(NodeType.PROJECT, self.project)

    def profile_id(self, kind: str) -> str:
        return encode(NodeType.PROFILE, self.people[kind])


async def _place(conn: f.Conn, project: uuid.UUID, owner: uuid.UUID, private: bool) -> Place:
    session = await f.session(conn, project, private=private)
    processing = await f.generation(conn, session, owner, status="processing")
    completed = await f.generation(conn, session, owner)
    output = await f.output(conn, completed)
    return Place(session, processing, completed, output)


async def build_world(conn: f.Conn, *, shared: bool = True, tag: str = "") -> World:
    """`tag` suffixes the usernames (unique) when one database holds several worlds."""
    people = {kind: await f.profile(conn, kind + tag) for kind in KINDS}
    people["root"] = await f.profile(conn, "root" + tag, admin=True)
    project = await f.project(conn, people["owner"], "Studio", shared=shared)
    for kind in ("admin", "editor", "viewer"):
        await f.member(conn, project, people[kind], kind)
    world = World(
        people,
        project,
        await _place(conn, project, people["owner"], False),
        await _place(conn, project, people["owner"], True),
    )
    world.bearer = {kind: token(pid) for kind, pid in people.items()}
    return world


async def mutate(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any], bearer: str
) -> dict[str, Any]:
    response = await post(client, document, variables, bearer=bearer)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


CREATE_PROJECT = """
mutation($input: CreateProjectInput!) {
  createProject(input: $input) {
    project { id name description isShared viewerRole sessionCount createdAt updatedAt }
  }
}"""
UPDATE_PROJECT = """
mutation($input: UpdateProjectInput!) {
  updateProject(input: $input) {
    project { id name description coverImageUrl isShared updatedAt }
  }
}"""
DELETE_PROJECT = "mutation($input: DeleteInput!) { deleteProject(input: $input) { deletedId } }"
ADD_MEMBER = """
mutation($input: AddProjectMemberInput!) {
  addProjectMember(input: $input) {
    project { updatedAt members { user { username } role joinedAt } }
  }
}"""
REMOVE_MEMBER = """
mutation($input: RemoveProjectMemberInput!) {
  removeProjectMember(input: $input) { project { updatedAt members { user { username } } } }
}"""
CREATE_SESSION = """
mutation($input: CreateSessionInput!) {
  createSession(input: $input) {
    session { id name type isPrivate createdAt updatedAt project { sessionCount } }
  }
}"""
UPDATE_SESSION = """
mutation($input: UpdateSessionInput!) {
  updateSession(input: $input) { session { id name isPrivate updatedAt } }
}"""
DELETE_SESSION = "mutation($input: DeleteInput!) { deleteSession(input: $input) { deletedId } }"
CREATE_GENERATION = """
mutation($input: CreateGenerationInput!) {
  createGeneration(input: $input) {
    generation {
      id status modelId prompt negativePrompt parameters cost createdAt
      user { username } session { updatedAt } outputs { id }
    }
  }
}"""
COMPLETE_GENERATION = """
mutation($input: CompleteGenerationInput!) {
  completeGeneration(input: $input) {
    generation {
      id status cost
      outputs { id fileUrl fileType width height duration isStarred isApproved createdAt }
    }
  }
}"""
FAIL_GENERATION = """
mutation($input: IdInput!) { failGeneration(input: $input) { generation { id status } } }"""
CANCEL_GENERATION = """
mutation($input: IdInput!) { cancelGeneration(input: $input) { generation { id status } } }"""
DISMISS_GENERATION = """
mutation($input: IdInput!) { dismissGeneration(input: $input) { generation { id status } } }"""
UPDATE_OUTPUT = """
mutation($input: UpdateOutputInput!) {
  updateOutput(input: $input) { output { id isStarred isApproved } }
}"""
DELETE_OUTPUT = "mutation($input: DeleteInput!) { deleteOutput(input: $input) { deletedId } }"
REPAIR = """
mutation($input: RepairProjectStatsInput!) {
  repairProjectStats(input: $input) { checked drifted repaired }
}"""

IMAGE = {"fileUrl": "https://cdn.example/new.png", "fileType": "IMAGE", "width": 1024,
         "height": 1024}  # fmt: skip
