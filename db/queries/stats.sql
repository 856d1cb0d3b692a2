-- Project card figures computed live from the base tables, per viewer: only sessions the
-- viewer sees count, and only published outputs (generation completed) in them.

-- name: live_stats_by_projects
-- For each project among $2 that $1 sees: the visible sessions, the newest published image
-- in them (ordered by generation.created_at, output.created_at, output.id, all DESC: API.md
-- "Thumbnail") and the newest published output's created_at.
SELECT p.id AS project_id,
       (SELECT count(*)
        FROM sessions s
        WHERE s.project_id = p.id AND vesper_sees_session(a.viewer_role, s.is_private)
       )::int AS session_count,
       (SELECT o.file_url
        FROM sessions s
        JOIN generations g ON g.session_id = s.id
        JOIN outputs o ON o.generation_id = g.id
        WHERE s.project_id = p.id AND vesper_sees_session(a.viewer_role, s.is_private)
          AND g.status = 'completed' AND o.file_type = 'image'
        ORDER BY g.created_at DESC, o.created_at DESC, o.id DESC
        LIMIT 1) AS thumbnail_url,
       (SELECT max(o.created_at)
        FROM sessions s
        JOIN generations g ON g.session_id = s.id
        JOIN outputs o ON o.generation_id = g.id
        WHERE s.project_id = p.id AND vesper_sees_session(a.viewer_role, s.is_private)
          AND g.status = 'completed') AS last_activity_at
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a
WHERE p.id = ANY($2::uuid[])
