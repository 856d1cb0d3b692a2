-- Generations: lookups by id and the per-session keyset page. A generation is visible when
-- its session is (see sessions.sql). Keyset bounds as in projects.sql, on (created_at, id).
-- `viewer_owns_project` lets the caller decide how much of `parameters` to show.

-- name: generations_by_ids
-- The generations among $2 that $1 sees.
SELECT g.id, g.session_id, g.user_id, g.model_id, g.prompt, g.negative_prompt,
       g.parameters::text AS parameters, g.status, g.cost, g.created_at,
       a.viewer_role IS NOT DISTINCT FROM 'OWNER' AS viewer_owns_project
FROM generations g
JOIN sessions s ON s.id = g.session_id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
WHERE g.id = ANY($2::uuid[]) AND vesper_sees_session(a.viewer_role, s.is_private)

-- name: generations_page_forward
-- For each session among $2 that $1 sees, its generations with a status among $3, newest
-- first (created_at DESC, id DESC), at most $8 per session: one range of
-- generations_session_status_created_idx (migration 0006) per status, merged.
SELECT g.id, g.session_id, g.user_id, g.model_id, g.prompt, g.negative_prompt,
       g.parameters::text AS parameters, g.status, g.cost, g.created_at,
       a.viewer_role IS NOT DISTINCT FROM 'OWNER' AS viewer_owns_project
FROM unnest($2::uuid[]) AS parent (id)
JOIN sessions s ON s.id = parent.id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
CROSS JOIN LATERAL (
    SELECT g.id, g.session_id, g.user_id, g.model_id, g.prompt, g.negative_prompt,
           g.parameters, g.status, g.cost, g.created_at
    FROM unnest($3::text[]) AS st (status)
    CROSS JOIN LATERAL (
        SELECT g.id, g.session_id, g.user_id, g.model_id, g.prompt, g.negative_prompt,
               g.parameters, g.status, g.cost, g.created_at
        FROM generations g
        WHERE g.session_id = parent.id AND g.status = st.status
          AND (g.created_at, g.id) < ($4::timestamp, $5::uuid)
          AND (g.created_at, g.id) > ($6::timestamp, $7::uuid)
        ORDER BY g.created_at DESC, g.id DESC
        LIMIT $8::int
    ) g
    ORDER BY g.created_at DESC, g.id DESC
    LIMIT $8
) g
WHERE vesper_sees_session(a.viewer_role, s.is_private)

-- name: generations_page_backward
-- generations_page_forward walking the other way: per session, the $8 rows just above the
-- "before" bound, oldest first (the caller reverses them).
SELECT g.id, g.session_id, g.user_id, g.model_id, g.prompt, g.negative_prompt,
       g.parameters::text AS parameters, g.status, g.cost, g.created_at,
       a.viewer_role IS NOT DISTINCT FROM 'OWNER' AS viewer_owns_project
FROM unnest($2::uuid[]) AS parent (id)
JOIN sessions s ON s.id = parent.id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
CROSS JOIN LATERAL (
    SELECT g.id, g.session_id, g.user_id, g.model_id, g.prompt, g.negative_prompt,
           g.parameters, g.status, g.cost, g.created_at
    FROM unnest($3::text[]) AS st (status)
    CROSS JOIN LATERAL (
        SELECT g.id, g.session_id, g.user_id, g.model_id, g.prompt, g.negative_prompt,
               g.parameters, g.status, g.cost, g.created_at
        FROM generations g
        WHERE g.session_id = parent.id AND g.status = st.status
          AND (g.created_at, g.id) < ($4::timestamp, $5::uuid)
          AND (g.created_at, g.id) > ($6::timestamp, $7::uuid)
        ORDER BY g.created_at, g.id
        LIMIT $8::int
    ) g
    ORDER BY g.created_at, g.id
    LIMIT $8
) g
WHERE vesper_sees_session(a.viewer_role, s.is_private)

-- Writes (ids and timestamps made here, as in projects.sql).

-- name: insert_generation
-- A new PROCESSING generation by $2 in session $1 (whose updated_at moves); returns its id.
WITH created AS (
    INSERT INTO generations (id, session_id, user_id, model_id, prompt, negative_prompt,
                             parameters, status, created_at)
    VALUES (gen_random_uuid(), $1::uuid, $2::uuid, $3::text, $4::text, $5::text,
            $6::jsonb, 'processing', (now() AT TIME ZONE 'UTC')::timestamp(3))
    RETURNING id, session_id
), touched AS (
    UPDATE sessions s
    SET updated_at = (now() AT TIME ZONE 'UTC')::timestamp(3)
    FROM created
    WHERE s.id = created.session_id
)
SELECT id FROM created

-- name: set_generation_status
-- Generation $1 moves to status $2; its cost becomes $3 when that is not null.
UPDATE generations
SET status = $2::text, cost = coalesce($3::numeric, cost)
WHERE id = $1::uuid

-- name: insert_outputs
-- The outputs of generation $1, one per element of the arrays $2..$6 (file url, file type,
-- width, height, duration); they share one created_at, as production's do.
INSERT INTO outputs (id, generation_id, file_url, file_type, width, height, duration,
                     created_at)
SELECT gen_random_uuid(), $1::uuid, o.file_url, o.file_type, o.width, o.height, o.duration,
       (now() AT TIME ZONE 'UTC')::timestamp(3)
FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::float8[])
    AS o (file_url, file_type, width, height, duration)
