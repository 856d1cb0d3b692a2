-- The big-writes benchmark (bench/big_writes.py): one project whose one session holds many
-- published outputs, filled set-based in a database of the benchmark's own.

-- name: bigwrites_project
-- The project ($1, owned by $2, not shared) and its session $3, public.
WITH project AS (
    INSERT INTO projects (id, name, owner_id, is_shared, updated_at)
    VALUES ($1::uuid, 'Big', $2::uuid, false, (now() AT TIME ZONE 'utc')::timestamp(3))
)
INSERT INTO sessions (id, project_id, name, type, is_private, updated_at)
VALUES ($3::uuid, $1, 'Big session', 'image', false, (now() AT TIME ZONE 'utc')::timestamp(3))

-- name: bigwrites_fill
-- $3 completed generations in session $1 of project $2, by $4, numbered from $5, each with
-- four images, and their published_outputs rows (migration 0007), in one statement. Run
-- with the triggers off (session_replication_role = replica): the rows are written as the
-- triggers would have written them.
WITH generation AS (
    INSERT INTO generations (id, session_id, user_id, model_id, prompt, parameters, status,
                             created_at)
    SELECT gen_random_uuid(), $1::uuid, $4::uuid, 'bench-model', 'A big session, ' || n,
           '{"aspectRatio": "1:1", "numOutputs": 4}'::jsonb, 'completed',
           '2026-01-01'::timestamp + n * interval '1 second'
    FROM generate_series($5::int, $5 + $3::int - 1) AS n
    RETURNING id, created_at
), output AS (
    INSERT INTO outputs (id, generation_id, file_url, file_type, width, height, is_starred,
                         is_approved, created_at)
    SELECT gen_random_uuid(), g.id, 'https://cdn.loopvesper.example/big/' || g.id || '-' || k
                                    || '.png',
           'image', 1024, 1024, false, false, g.created_at + interval '5 seconds'
    FROM generation g
    CROSS JOIN generate_series(1, 4) AS k
    RETURNING id, generation_id, file_type, created_at
)
INSERT INTO published_outputs (output_id, project_id, session_id, is_private, file_type,
                               generation_created_at, created_at)
SELECT o.id, $2::uuid, $1, false, o.file_type, g.created_at, o.created_at
FROM output o
JOIN generation g ON g.id = o.generation_id

-- name: bigwrites_refresh
-- The project's read-model row, once the rows are in.
SELECT vesper_stats_refresh(ARRAY[$1::uuid], true, true)

-- name: bigwrites_member
-- $2 becomes a VIEWER member of project $1 (triggers on: member_projects follows).
INSERT INTO project_members (id, project_id, user_id, role, joined_at)
VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'viewer', (now() AT TIME ZONE 'utc')::timestamp(3))

-- name: bigwrites_profiles
-- A profile for each id of $1.
INSERT INTO profiles (id, username, display_name, role, updated_at)
SELECT p.id, 'big-' || p.id, 'Big ' || left(p.id::text, 8), 'user',
       (now() AT TIME ZONE 'utc')::timestamp(3)
FROM unnest($1::uuid[]) AS p (id)

-- name: bigwrites_published
-- Published outputs of the project $1 (whole: the benchmark's own database).
SELECT count(*) FROM published_outputs WHERE project_id = $1::uuid

-- name: bigwrites_stale
-- Rows of session $1's published outputs whose copies differ from the session (0 once it
-- has settled), and settling records left for it.
SELECT (SELECT count(*)
        FROM published_outputs po JOIN sessions s ON s.id = po.session_id
        WHERE s.id = $1::uuid
          AND (po.project_id, po.is_private) IS DISTINCT FROM (s.project_id, s.is_private))
       + (SELECT count(*) FROM vesper_settling_sessions WHERE session_id = $1::uuid)
