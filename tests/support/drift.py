"""The index tables of migration 0007 compared with a recomputation from the base tables."""

from __future__ import annotations

from typing import Any

from .factories import Conn

# Rows the index tables should hold, recomputed from the base tables, minus what they hold,
# both ways: empty when exact.
_MEMBERS_EXPECTED = """
SELECT format('%s %s %s', p.id, m.user_id, p.updated_at)
FROM project_members m JOIN projects p ON p.id = m.project_id"""
_MEMBERS_HELD = "SELECT format('%s %s %s', project_id, user_id, updated_at) FROM member_projects"
_PUBLISHED_EXPECTED = """
SELECT format('%s %s %s %s %s %s %s', o.id, s.project_id, s.id, s.is_private, o.file_type,
              g.created_at, o.created_at)
FROM outputs o JOIN generations g ON g.id = o.generation_id JOIN sessions s ON s.id = g.session_id
WHERE g.status = 'completed'"""
_PUBLISHED_HELD = """
SELECT format('%s %s %s %s %s %s %s', output_id, project_id, session_id, is_private, file_type,
              generation_created_at, created_at)
FROM published_outputs"""
DRIFT = f"""
(SELECT 'missing', * FROM ({_MEMBERS_EXPECTED} EXCEPT {_MEMBERS_HELD}) t)
UNION ALL (SELECT 'stale', * FROM ({_MEMBERS_HELD} EXCEPT {_MEMBERS_EXPECTED}) t)
UNION ALL (SELECT 'missing', * FROM ({_PUBLISHED_EXPECTED} EXCEPT {_PUBLISHED_HELD}) t)
UNION ALL (SELECT 'stale', * FROM ({_PUBLISHED_HELD} EXCEPT {_PUBLISHED_EXPECTED}) t)
"""


async def drift(conn: Conn) -> list[Any]:
    """What the index tables miss or hold stale, compared with the base tables."""
    return [tuple(row) for row in await conn.fetch(DRIFT)]
