"""Who may write what (API.md "Permissions"), decided on a locked `Target`.

A row the viewer cannot see is NOT_FOUND with the same message whether or not it exists;
a visible row the viewer's role may not change is FORBIDDEN.
"""

from __future__ import annotations

from db.access import Target
from domain.vocabulary import NodeType, ProjectRole

from .errors import Forbidden, NotFound

OWNER, ADMIN, EDITOR = ProjectRole.OWNER, ProjectRole.ADMIN, ProjectRole.EDITOR
MANAGE_PROJECT = frozenset({OWNER, ADMIN})  # update the project, add/remove members
DELETE_PROJECT = frozenset({OWNER})
EDIT_CONTENT = frozenset({OWNER, ADMIN, EDITOR})  # sessions, generations, outputs


def allowed(
    target: Target | None, roles: frozenset[ProjectRole], *, what: NodeType, action: str
) -> Target:
    """`target` when the viewer sees it and their role is among `roles`."""
    if target is None:
        raise NotFound(f"no {what.value.lower()} with this id is visible to you")
    if target.viewer_role not in roles:
        raise Forbidden(f"{_WHO[target.viewer_role]} may not {action}")
    return target


_WHO = {
    ProjectRole.OWNER: "the owner",
    ProjectRole.ADMIN: "an ADMIN member",
    ProjectRole.EDITOR: "an EDITOR member",
    ProjectRole.VIEWER: "a VIEWER member",
    None: "a viewer of a shared project",
}
