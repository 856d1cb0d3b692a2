-- Synthetic data at benchmark scale (bench/seed.py), set-based: every statement inserts a
-- range of rows computed from generate_series, never one row per round trip.
--
-- Determinism: every choice is a hash of (row number, seed) — hashint8extended(n, seed * 16
-- + k) with k telling the streams apart — and every id is md5('<seed>:<kind>:<n>')::uuid
-- (random-looking like production's v4 ids, identical on every load with the same seed).
-- `u(n, k)` below means (hashint8extended(n, seed * 16 + k) & 2147483647) / 2^31, uniform in
-- [0, 1). Timestamps are offsets from 2025-01-01 (naive UTC). Row number n of a kind is
-- 1-based; the caller passes ranges so that large tables load in chunks.

-- name: seed_profiles
-- Users 1..$2: user 1 is an administrator, user 2 the heavy owner, user 3 the heavy member.
INSERT INTO profiles (id, username, display_name, role, created_at, updated_at)
SELECT md5($1::int || ':profile:' || n)::uuid, 'user' || n, 'User ' || n,
       (CASE WHEN n = 1 THEN 'admin' ELSE 'user' END)::"UserRole", t.at, t.at
FROM generate_series(1, $2::int) AS n
CROSS JOIN LATERAL (
    SELECT timestamp '2025-01-01'
           + (hashint8extended(n, $1::int * 16) & 2147483647) % (200 * 86400) * interval '1 second'
) AS t (at)

-- name: seed_projects
-- Projects $2..$3 of users $4: the first $5 belong to the heavy owner (user 2), the rest to
-- users 4.. at random; one in ten is shared.
INSERT INTO projects (id, name, description, owner_id, is_shared, created_at, updated_at)
SELECT md5($1::int || ':project:' || n)::uuid, 'Project ' || n,
       CASE WHEN n % 3 = 0 THEN 'Campaign visuals, batch ' || n END,
       md5($1::int || ':profile:' || CASE WHEN n <= $5::int THEN 2
                                     ELSE 4 + (hashint8extended(n, $1::int * 16 + 1) & 2147483647)
                                              % ($4::int - 3) END)::uuid,
       (hashint8extended(n, $1::int * 16 + 2) & 2147483647) % 10 = 0,
       t.at - interval '30 days', t.at
FROM generate_series($2::bigint, $3::bigint) AS n
CROSS JOIN LATERAL (
    SELECT timestamp '2025-01-01' + interval '200 days'
           + (hashint8extended(n, $1::int * 16 + 3) & 2147483647) % (300 * 86400) * interval '1 second'
) AS t (at)

-- name: seed_members
-- Memberships: the heavy member (user 3) in the $4 projects after the heavy owner's $5, and
-- up to two random users 4.. of $3 in each of the $2 projects (never the owner; a repeated
-- pair is skipped).
INSERT INTO project_members (id, project_id, user_id, role, joined_at)
SELECT md5($1::int || ':member:' || m.n || ':' || m.j)::uuid, p.id, m.user_id,
       (ARRAY['admin', 'editor', 'viewer'])[1 + (hashint8extended(m.n * 4 + m.j, $1::int * 16 + 4)
                                                 & 2147483647) % 3],
       p.created_at + interval '1 day'
FROM (
    SELECT n, 0 AS j, md5($1::int || ':profile:3')::uuid AS user_id
    FROM generate_series($5::int + 1, $5::int + $4::int) AS n
    UNION ALL
    SELECT n, j, md5($1::int || ':profile:'
                     || 4 + (hashint8extended(n * 4 + j, $1::int * 16 + 5) & 2147483647)
                            % ($3::int - 3))::uuid
    FROM generate_series(1, $2::int) AS n
    CROSS JOIN generate_series(1, 2) AS j
    WHERE j <= (hashint8extended(n, $1::int * 16 + 6) & 2147483647) % 3
) AS m
JOIN projects p ON p.id = md5($1::int || ':project:' || m.n)::uuid
WHERE m.user_id <> p.owner_id
ON CONFLICT (project_id, user_id) DO NOTHING

-- name: seed_sessions
-- Sessions $2..$3 over $4 projects: session n <= $4 is project n's first (image) session,
-- the next $5 belong to the heavy project (the last one), the rest go to projects skewed
-- towards the low numbers (u^2). One in five later sessions is a video session; half are
-- private.
INSERT INTO sessions (id, project_id, name, type, is_private, created_at, updated_at)
SELECT md5($1::int || ':session:' || n)::uuid,
       md5($1::int || ':project:'
           || CASE WHEN n <= $4::int THEN n
                   WHEN n <= $4::int + $5::int THEN $4::int
                   ELSE 1 + floor($4::int * power((hashint8extended(n, $1::int * 16 + 7)
                                                   & 2147483647) / 2147483648.0, 2))::int
              END)::uuid,
       'Session ' || n,
       CASE WHEN n > $4::int AND (hashint8extended(n, $1::int * 16 + 8) & 2147483647) % 5 = 0
            THEN 'video' ELSE 'image' END,
       (hashint8extended(n, $1::int * 16 + 9) & 2147483647) % 2 = 0,
       t.at, t.at + interval '10 days'
FROM generate_series($2::bigint, $3::bigint) AS n
CROSS JOIN LATERAL (
    SELECT timestamp '2025-01-01' + interval '200 days'
           + (hashint8extended(n, $1::int * 16 + 10) & 2147483647) % (300 * 86400)
             * interval '1 second'
) AS t (at)

-- name: seed_generations
-- Generations $2..$3 over $4 sessions, with their outputs and the outputs' published_outputs
-- rows (migration 0007), in one statement. The first $5 generations go to the heavy session
-- (number $6 + 1, the heavy project's first extra session), the rest to sessions skewed
-- towards the low numbers. Run by the project's owner; ~88 % completed, the rest failed,
-- cancelled, processing, queued or dismissed; parameters carries a few KB, mostly a debug
-- log. Completed and dismissed generations have outputs (an image generation 4 in seven
-- cases out of ten, else 1; a video generation 1), all of one generation sharing created_at.
-- (Foreign keys are checked at the end of the statement, so outputs may name generations
-- inserted by it.)
WITH src AS MATERIALIZED (
    SELECT md5($1::int || ':generation:' || g.n)::uuid AS id, g.n, g.h, g.status,
           s.id AS session_id, s.project_id, s.is_private, s.type = 'video' AS video,
           p.owner_id, s.created_at + (g.h % (10 * 86400)) * interval '1 second' AS created_at
    FROM (
        SELECT n, h,
               CASE WHEN n <= $5::int THEN $6::int + 1
                    ELSE 1 + floor($4::int * power((hashint8extended(n, $1::int * 16 + 11)
                                                    & 2147483647) / 2147483648.0, 2))::int
               END AS session_n,
               CASE WHEN h % 100 < 88 THEN 'completed' WHEN h % 100 < 91 THEN 'failed'
                    WHEN h % 100 < 93 THEN 'cancelled' WHEN h % 100 < 95 THEN 'processing'
                    WHEN h % 100 < 96 THEN 'queued' ELSE 'dismissed' END AS status
        FROM generate_series($2::bigint, $3::bigint) AS n
        CROSS JOIN LATERAL (SELECT hashint8extended(n, $1::int * 16 + 12) & 2147483647)
            AS x (h)
    ) AS g
    JOIN sessions s ON s.id = md5($1::int || ':session:' || g.session_n)::uuid
    JOIN projects p ON p.id = s.project_id
), generation AS (
    INSERT INTO generations (id, session_id, user_id, model_id, prompt, negative_prompt,
                             parameters, status, cost, created_at)
    SELECT id, session_id, owner_id,
           CASE WHEN video THEN 'gemini-veo-3.1'
                WHEN h % 2 = 0 THEN 'gemini-nano-banana-pro' ELSE 'replicate-seedream-4' END,
           'Prompt ' || n || ': a product shot, studio lighting, 85mm',
           CASE WHEN h % 4 = 0 THEN 'blurry, text, watermark' END,
           jsonb_build_object(
               'aspectRatio', (ARRAY['1:1', '16:9', '9:16', '4:3'])[1 + h % 4],
               'numOutputs', CASE WHEN video THEN 1 ELSE 4 END,
               'resolution', '1024x1024',
               'seed', h,
               'debugLog', repeat('[worker] step ok, latency 812 ms; ', 90)),
           status,
           CASE WHEN status = 'completed' THEN (h % 100000) / 1000000.0 END,
           created_at
    FROM src
), output AS (
    INSERT INTO outputs (id, generation_id, file_url, file_type, width, height, duration,
                         is_starred, is_approved, created_at)
    SELECT md5($1::int || ':output:' || src.id || ':' || k)::uuid, src.id,
           'https://cdn.loopvesper.example/seed/' || src.id || '-' || k
           || CASE WHEN src.video THEN '.mp4' ELSE '.png' END,
           CASE WHEN src.video THEN 'video' ELSE 'image' END,
           CASE WHEN src.video THEN 1280 ELSE 1024 END,
           CASE WHEN src.video THEN 720 ELSE 1024 END,
           CASE WHEN src.video THEN 8.0 END,
           (src.h + k) % 17 = 0, (src.h + k) % 5 = 0,
           src.created_at + (5 + src.h % 55) * interval '1 second'
    FROM src
    CROSS JOIN LATERAL generate_series(
        1,
        CASE WHEN src.status NOT IN ('completed', 'dismissed') THEN 0
             WHEN src.video OR src.h % 10 >= 7 THEN 1
             ELSE 4 END) AS k
    RETURNING id, generation_id, file_type, created_at
)
INSERT INTO published_outputs (output_id, project_id, session_id, is_private, file_type,
                               generation_created_at, created_at)
SELECT o.id, src.project_id, src.session_id, src.is_private, o.file_type, src.created_at,
       o.created_at
FROM output o
JOIN src ON src.id = o.generation_id
WHERE src.status = 'completed'

-- name: seed_secondary_indexes
-- The indexes of the largest tables that back no constraint: the seeder drops them for the
-- load and rebuilds them from these definitions (one sort each beats millions of updates).
SELECT i.indexname, i.indexdef
FROM pg_indexes i
WHERE i.schemaname = current_schema()
  AND i.tablename IN ('generations', 'outputs', 'published_outputs', 'member_projects')
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint c
      WHERE c.conname = i.indexname AND c.connamespace = to_regnamespace(i.schemaname))
ORDER BY i.indexname

-- name: seed_sync_triggers
-- ALTER TABLE statements that switch the insert triggers of the index tables (migration
-- 0007) and of project_stats (0009) off ($1 = 'DISABLE') or on ('ENABLE'): the seeder
-- fills them set-based instead of row by row. The event triggers (0013) are off too: a
-- load publishes nothing (millions of notifications nobody asked for).
SELECT format('ALTER TABLE %I %s TRIGGER %I', t.table_name, $1::text, t.trigger_name)
FROM (VALUES ('project_members', 'member_projects_sync'),
             ('outputs', 'published_outputs_sync'),
             ('projects', 'project_stats_sync'),
             ('sessions', 'project_stats_sync'),
             ('published_outputs', 'project_stats_sync'),
             ('generations', 'vesper_events_on_insert'),
             ('generations', 'vesper_events_on_update'),
             ('outputs', 'vesper_events_on_insert'),
             ('sessions', 'vesper_events_on_insert'),
             ('sessions', 'vesper_events_on_update'),
             ('projects', 'vesper_events_on_update')) AS t (table_name, trigger_name)

-- name: seed_index_table_keys
-- The primary and foreign keys of the index tables, to drop for the load and add back
-- (one index sort and one validating join beat a B-tree insert and a locking lookup of the
-- referenced row per inserted row). Primary keys first, for adding back.
SELECT c.conrelid::regclass::text AS table_name, c.conname, pg_get_constraintdef(c.oid) AS def
FROM pg_constraint c
WHERE c.conrelid IN ('member_projects'::regclass, 'published_outputs'::regclass)
  AND c.contype IN ('p', 'f')
ORDER BY c.contype DESC, c.conname

-- name: seed_member_projects
-- member_projects from the loaded memberships (what the trigger writes per row).
INSERT INTO member_projects (project_id, user_id, updated_at)
SELECT p.id, m.user_id, p.updated_at
FROM project_members m
JOIN projects p ON p.id = m.project_id

-- name: seed_project_stats
-- project_stats for every loaded project (what the triggers maintain), one pass.
SELECT vesper_stats_refresh(ARRAY(SELECT id FROM projects), true, true)

-- name: seed_has_lz4
-- Whether this server was built with lz4 (a faster TOAST compression than pglz).
SELECT coalesce('lz4' = ANY(enumvals), false)
FROM pg_settings
WHERE name = 'default_toast_compression'

-- name: seed_is_empty
-- Whether the tables the seeder fills hold no project and no profile.
SELECT NOT EXISTS (SELECT 1 FROM profiles) AND NOT EXISTS (SELECT 1 FROM projects)

-- name: seed_truncate
-- Empties every table the seeder fills (and what hangs off them).
TRUNCATE profiles, projects, project_members, sessions, generations, generation_jobs, outputs,
         member_projects, published_outputs, project_stats
CASCADE

-- name: seed_counts
-- Row counts and the database size after a load.
SELECT (SELECT count(*) FROM profiles) AS profiles,
       (SELECT count(*) FROM projects) AS projects,
       (SELECT count(*) FROM project_members) AS project_members,
       (SELECT count(*) FROM sessions) AS sessions,
       (SELECT count(*) FROM generations) AS generations,
       (SELECT count(*) FROM outputs) AS outputs,
       pg_database_size(current_database()) AS bytes
