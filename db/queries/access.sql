-- What a write needs to know before it changes a row: whether the viewer sees the row
-- (no row back means "not visible", which the API answers as NOT_FOUND, exactly as for a
-- row that does not exist), the viewer's role on its project (null: visible only because
-- the project is shared), and the facts the permission and status rules look at.
--
-- Each block locks the row it answers for (FOR NO KEY UPDATE: blocks other writers of the
-- row, not inserts that reference it) until the writing transaction ends, so the facts
-- cannot change between the check and the write: two completeGeneration calls on one
-- generation are serialized and the second sees COMPLETED. Visibility uses the same
-- functions as every read (migration 0002).

-- name: project_for_write
-- Project $2 as $1 sees it, locked.
SELECT a.viewer_role, p.owner_id, NULL::text AS status
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a
WHERE p.id = $2::uuid
FOR NO KEY UPDATE OF p

-- name: session_for_write
-- Session $2 as $1 sees it, locked.
SELECT a.viewer_role, p.owner_id, NULL::text AS status
FROM sessions s
JOIN projects p ON p.id = s.project_id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
WHERE s.id = $2::uuid AND vesper_sees_session(a.viewer_role, s.is_private)
FOR NO KEY UPDATE OF s

-- name: generation_for_write
-- Generation $2 as $1 sees it, locked; `status` is its current status.
SELECT a.viewer_role, p.owner_id, g.status
FROM generations g
JOIN sessions s ON s.id = g.session_id
JOIN projects p ON p.id = s.project_id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
WHERE g.id = $2::uuid AND vesper_sees_session(a.viewer_role, s.is_private)
FOR NO KEY UPDATE OF g

-- name: output_for_write
-- Output $2 as $1 sees it, locked.
SELECT a.viewer_role, p.owner_id, g.status
FROM outputs o
JOIN generations g ON g.id = o.generation_id
JOIN sessions s ON s.id = g.session_id
JOIN projects p ON p.id = s.project_id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
WHERE o.id = $2::uuid AND vesper_sees_session(a.viewer_role, s.is_private)
FOR NO KEY UPDATE OF o
