-- Project card figures computed per request, per viewer, from sessions and the
-- published_outputs index table (migration 0007): only sessions the viewer sees count, and
-- only published outputs (generation completed) in them. Each figure is one or a few index
-- probes per project, except the session count, which reads one index-only range of the
-- project's visible sessions.

-- name: live_stats_by_projects
-- For each project among $2 that $1 sees: the visible sessions (counted from the
-- (project_id, is_private) prefix of sessions_project_visible_updated_idx), the newest
-- published image in them (ordered by generation.created_at, output.created_at, output.id,
-- all DESC: API.md "Thumbnail"; the first entry of published_outputs_thumbnail_idx per
-- privacy value the viewer sees) and the newest published output's created_at (the first
-- entry of published_outputs_gallery_idx per privacy value and file type).
SELECT p.id AS project_id,
       (SELECT count(*)
        FROM unnest(vesper_session_privacies(a.viewer_role)) AS v (is_private)
        JOIN sessions s ON s.project_id = p.id AND s.is_private = v.is_private
       )::int AS session_count,
       (SELECT o.file_url
        FROM unnest(vesper_session_privacies(a.viewer_role)) AS v (is_private)
        CROSS JOIN LATERAL (
            SELECT po.output_id, po.generation_created_at, po.created_at
            FROM published_outputs po
            WHERE po.project_id = p.id AND po.is_private = v.is_private
              AND po.file_type = 'image'
            ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
            LIMIT 1
        ) po
        JOIN outputs o ON o.id = po.output_id
        ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
        LIMIT 1) AS thumbnail_url,
       (SELECT max(po.created_at)
        FROM unnest(vesper_session_privacies(a.viewer_role)) AS v (is_private)
        CROSS JOIN unnest($3::text[]) AS f (file_type)
        CROSS JOIN LATERAL (
            SELECT po.created_at
            FROM published_outputs po
            WHERE po.project_id = p.id AND po.is_private = v.is_private
              AND po.file_type = f.file_type
            ORDER BY po.created_at DESC
            LIMIT 1
        ) po) AS last_activity_at
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a
WHERE p.id = ANY($2::uuid[])
