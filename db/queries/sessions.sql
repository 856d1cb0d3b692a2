-- Sessions: lookups by id and the per-project keyset page. A session is visible when its
-- project is (vesper_project_access) and vesper_sees_session says the viewer's role sees it.
-- Keyset bounds as in projects.sql, on (updated_at, id). A page reads one range of
-- sessions_project_visible_updated_idx (migration 0005) per privacy value the viewer sees
-- (vesper_session_privacies) and merges them.

-- name: sessions_by_ids
-- The sessions among $2 that $1 sees.
SELECT s.id, s.project_id, s.name, s.type, s.is_private, s.created_at, s.updated_at
FROM sessions s
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
WHERE s.id = ANY($2::uuid[]) AND vesper_sees_session(a.viewer_role, s.is_private)

-- name: sessions_page_forward
-- For each project among $2 that $1 sees, its visible sessions of type $3 (any when null),
-- newest first (updated_at DESC, id DESC), at most $8 per project.
SELECT s.id, s.project_id, s.name, s.type, s.is_private, s.created_at, s.updated_at
FROM unnest($2::uuid[]) AS parent (id)
CROSS JOIN vesper_project_access($1::uuid, parent.id) a
CROSS JOIN LATERAL (
    SELECT s.id, s.project_id, s.name, s.type, s.is_private, s.created_at, s.updated_at
    FROM unnest(vesper_session_privacies(a.viewer_role)) AS v (is_private)
    CROSS JOIN LATERAL (
        SELECT s.id, s.project_id, s.name, s.type, s.is_private, s.created_at, s.updated_at
        FROM sessions s
        WHERE s.project_id = parent.id AND s.is_private = v.is_private
          AND ($3::text IS NULL OR s.type = $3)
          AND (s.updated_at, s.id) < ($4::timestamp, $5::uuid)
          AND (s.updated_at, s.id) > ($6::timestamp, $7::uuid)
        ORDER BY s.updated_at DESC, s.id DESC
        LIMIT $8::int
    ) s
    ORDER BY s.updated_at DESC, s.id DESC
    LIMIT $8
) s

-- name: sessions_page_backward
-- sessions_page_forward walking the other way: per project, the $8 rows just above the
-- "before" bound, oldest first (the caller reverses them).
SELECT s.id, s.project_id, s.name, s.type, s.is_private, s.created_at, s.updated_at
FROM unnest($2::uuid[]) AS parent (id)
CROSS JOIN vesper_project_access($1::uuid, parent.id) a
CROSS JOIN LATERAL (
    SELECT s.id, s.project_id, s.name, s.type, s.is_private, s.created_at, s.updated_at
    FROM unnest(vesper_session_privacies(a.viewer_role)) AS v (is_private)
    CROSS JOIN LATERAL (
        SELECT s.id, s.project_id, s.name, s.type, s.is_private, s.created_at, s.updated_at
        FROM sessions s
        WHERE s.project_id = parent.id AND s.is_private = v.is_private
          AND ($3::text IS NULL OR s.type = $3)
          AND (s.updated_at, s.id) < ($4::timestamp, $5::uuid)
          AND (s.updated_at, s.id) > ($6::timestamp, $7::uuid)
        ORDER BY s.updated_at, s.id
        LIMIT $8::int
    ) s
    ORDER BY s.updated_at, s.id
    LIMIT $8
) s

-- Writes (ids and timestamps made here, as in projects.sql).

-- name: insert_session
-- A new session of project $1; returns its id.
INSERT INTO sessions (id, project_id, name, type, is_private, created_at, updated_at)
VALUES (gen_random_uuid(), $1::uuid, $2::text, $3::text, $4::boolean,
        (now() AT TIME ZONE 'UTC')::timestamp(3), (now() AT TIME ZONE 'UTC')::timestamp(3))
RETURNING id

-- name: update_session
-- Session $1 with name $2 and privacy $3 (each kept when null); updated_at moves when
-- either changes.
UPDATE sessions s
SET (name, is_private, updated_at) = (
    SELECT n.name, n.is_private,
           CASE WHEN (n.name, n.is_private) IS DISTINCT FROM (s.name, s.is_private)
                THEN (now() AT TIME ZONE 'UTC')::timestamp(3)
                ELSE s.updated_at END
    FROM (SELECT coalesce($2::text, s.name), coalesce($3::boolean, s.is_private))
        AS n (name, is_private))
WHERE s.id = $1::uuid

-- name: delete_session
-- Session $1 and, by cascade, its generations and outputs, when it holds at most
-- vesper_inline_rows() generations and as many published outputs (migration 0018); whether
-- it did.
WITH small AS (
    SELECT s.id
    FROM sessions s
    WHERE s.id = $1::uuid
      AND (SELECT count(*) FROM (SELECT FROM generations g WHERE g.session_id = s.id
                                 LIMIT vesper_inline_rows() + 1) few) <= vesper_inline_rows()
      AND (SELECT count(*) FROM (SELECT FROM published_outputs po WHERE po.session_id = s.id
                                 LIMIT vesper_inline_rows() + 1) few) <= vesper_inline_rows()
), gone AS (
    DELETE FROM sessions s USING small WHERE s.id = small.id
    RETURNING 1
)
SELECT count(*) > 0 FROM gone

-- name: hide_session
-- Session $1 moved into a new project of the same owner recorded for deletion (migration
-- 0016), hidden from everyone at once; returns that project's id, for its purge. The move
-- leaves its old project reading it session by session until the purge has deleted its
-- rows (migration 0018).
WITH target AS (
    SELECT s.id, p.owner_id
    FROM sessions s
    JOIN projects p ON p.id = s.project_id
    WHERE s.id = $1::uuid
), holder AS (
    INSERT INTO projects (id, name, owner_id, is_shared, created_at, updated_at)
    SELECT gen_random_uuid(), 'deleted session ' || target.id, target.owner_id, false,
           (now() AT TIME ZONE 'UTC')::timestamp(3), (now() AT TIME ZONE 'UTC')::timestamp(3)
    FROM target
    RETURNING id
), recorded AS (
    INSERT INTO vesper_project_deletions (project_id)
    SELECT id FROM holder
), moved AS (
    UPDATE sessions s SET project_id = holder.id FROM holder WHERE s.id = $1::uuid
)
SELECT id FROM holder
