-- Project card figures (sessionCount, thumbnailUrl, lastActivityAt) for one viewer, from
-- the live tables or from the project_stats read model (migration 0009). Both give the
-- figures of the viewer's class: the owner's, or everyone else's (public sessions only).

-- name: live_stats_by_projects
-- For each project among $2 that $1 sees, computed now by the functions the read model's
-- maintenance uses (migration 0009): an index-only count of the visible sessions, and a
-- few index probes of published_outputs for the thumbnail and the last activity.
SELECT p.id AS project_id,
       vesper_stats_session_count(p.id, vesper_session_privacies(a.viewer_role))
           AS session_count,
       (SELECT t.url FROM vesper_stats_thumbnail(p.id, vesper_session_privacies(a.viewer_role)) t)
           AS thumbnail_url,
       vesper_stats_last_activity(p.id, vesper_session_privacies(a.viewer_role))
           AS last_activity_at
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a
WHERE p.id = ANY($2::uuid[])

-- name: stored_stats_by_projects
-- For each project among $2 that $1 sees, its project_stats row: the owner's columns or
-- everyone else's; a project without a row yet (the backfill has not reached it) is
-- computed live instead (vesper_card_figures, migration 0014).
SELECT p.id AS project_id, f.session_count, f.thumbnail_url, f.last_activity_at
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a
CROSS JOIN LATERAL vesper_card_figures(p.id, a.viewer_role) f
WHERE p.id = ANY($2::uuid[])

-- name: stats_drift
-- Of the projects with id above $1 (in id order, at most $2; only project $3 when given),
-- which ones' project_stats row is missing or differs from a recomputation from the base
-- tables; `checked` is how many projects were looked at and `last_id` where to go on.
WITH batch AS (
    SELECT p.id
    FROM projects p
    WHERE p.id > $1::uuid AND ($3::uuid IS NULL OR p.id = $3)
    ORDER BY p.id
    LIMIT $2::int
), drifted AS (
    SELECT b.id
    FROM batch b
    LEFT JOIN project_stats st ON st.project_id = b.id
    LEFT JOIN LATERAL vesper_stats_thumbnail(b.id, '{false,true}') ot ON true
    LEFT JOIN LATERAL vesper_stats_thumbnail(b.id, '{false}') pt ON true
    WHERE st.project_id IS NULL
       OR (st.owner_session_count, st.public_session_count,
           st.owner_thumbnail_output_id, st.owner_thumbnail_url,
           st.owner_thumbnail_generation_created_at, st.owner_thumbnail_created_at,
           st.public_thumbnail_output_id, st.public_thumbnail_url,
           st.public_thumbnail_generation_created_at, st.public_thumbnail_created_at,
           st.owner_last_activity_at, st.public_last_activity_at)
          IS DISTINCT FROM
          (vesper_stats_session_count(b.id, '{false,true}'),
           vesper_stats_session_count(b.id, '{false}'),
           ot.output_id, ot.url, ot.generation_created_at, ot.created_at,
           pt.output_id, pt.url, pt.generation_created_at, pt.created_at,
           vesper_stats_last_activity(b.id, '{false,true}'),
           vesper_stats_last_activity(b.id, '{false}'))
)
SELECT (SELECT count(*) FROM batch)::int AS checked,
       (SELECT id FROM batch ORDER BY id DESC LIMIT 1) AS last_id,
       ARRAY(SELECT id FROM drifted ORDER BY id) AS drifted

-- name: stats_refresh
-- Recomputes the project_stats rows of the projects among $1 (creating missing ones), each
-- under its row lock.
SELECT vesper_stats_refresh($1::uuid[], true, true)
