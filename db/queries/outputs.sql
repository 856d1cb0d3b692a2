-- Outputs: lookups by id, the outputs of generations, and the gallery (a project's
-- published outputs). An output is visible when its session is (see sessions.sql);
-- published when its generation is completed. Keyset bounds as in projects.sql, on
-- (created_at, id).

-- name: outputs_by_ids
-- The outputs among $2 that $1 sees.
SELECT o.id, o.generation_id, o.file_url, o.file_type, o.width, o.height, o.duration,
       o.is_starred, o.is_approved, o.created_at
FROM outputs o
JOIN generations g ON g.id = o.generation_id
JOIN sessions s ON s.id = g.session_id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
WHERE o.id = ANY($2::uuid[]) AND vesper_sees_session(a.viewer_role, s.is_private)

-- name: outputs_by_generations
-- Every output of the generations among $2 that $1 sees, oldest first (created_at, id).
SELECT o.id, o.generation_id, o.file_url, o.file_type, o.width, o.height, o.duration,
       o.is_starred, o.is_approved, o.created_at
FROM generations g
JOIN sessions s ON s.id = g.session_id
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
JOIN outputs o ON o.generation_id = g.id
WHERE g.id = ANY($2::uuid[]) AND vesper_sees_session(a.viewer_role, s.is_private)
ORDER BY o.generation_id, o.created_at, o.id

-- name: gallery_page_forward
-- For each project among $2 that $1 sees (returned as project_id), the published outputs
-- with a file type among $3 in its visible sessions, newest first (created_at DESC, id
-- DESC), at most $8 per project: one range of published_outputs_gallery_idx (migration
-- 0007) per privacy value the viewer sees and file type, merged; then the page's outputs.
SELECT parent.id AS project_id, o.id, o.generation_id, o.file_url, o.file_type, o.width,
       o.height, o.duration, o.is_starred, o.is_approved, o.created_at
FROM unnest($2::uuid[]) AS parent (id)
CROSS JOIN vesper_project_access($1::uuid, parent.id) a
CROSS JOIN LATERAL (
    SELECT o.id, o.generation_id, o.file_url, o.file_type, o.width, o.height, o.duration,
           o.is_starred, o.is_approved, o.created_at
    FROM (
        (SELECT po.output_id, po.created_at
         FROM unnest(vesper_session_privacies(a.viewer_role)) AS v (is_private)
         CROSS JOIN unnest($3::text[]) AS f (file_type)
         CROSS JOIN LATERAL (
             SELECT po.output_id, po.created_at
             FROM published_outputs po
             WHERE po.project_id = parent.id AND po.is_private = v.is_private
               AND po.file_type = f.file_type
               AND (po.created_at, po.output_id) < ($4::timestamp, $5::uuid)
               AND (po.created_at, po.output_id) > ($6::timestamp, $7::uuid)
             ORDER BY po.created_at DESC, po.output_id DESC
             LIMIT $8::int
         ) po
         WHERE NOT EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = parent.id)
         ORDER BY po.created_at DESC, po.output_id DESC
         LIMIT $8)
        UNION ALL
        SELECT g.output_id, g.created_at
        FROM vesper_gallery_settling_forward(parent.id, vesper_session_privacies(a.viewer_role),
                                             $3, $4, $5, $6, $7, $8) g
        WHERE EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = parent.id)
    ) po
    JOIN outputs o ON o.id = po.output_id
    ORDER BY o.created_at DESC, o.id DESC
) o

-- name: gallery_page_backward
-- gallery_page_forward walking the other way: per project, the $8 rows just above the
-- "before" bound, oldest first (the caller reverses them).
SELECT parent.id AS project_id, o.id, o.generation_id, o.file_url, o.file_type, o.width,
       o.height, o.duration, o.is_starred, o.is_approved, o.created_at
FROM unnest($2::uuid[]) AS parent (id)
CROSS JOIN vesper_project_access($1::uuid, parent.id) a
CROSS JOIN LATERAL (
    SELECT o.id, o.generation_id, o.file_url, o.file_type, o.width, o.height, o.duration,
           o.is_starred, o.is_approved, o.created_at
    FROM (
        (SELECT po.output_id, po.created_at
         FROM unnest(vesper_session_privacies(a.viewer_role)) AS v (is_private)
         CROSS JOIN unnest($3::text[]) AS f (file_type)
         CROSS JOIN LATERAL (
             SELECT po.output_id, po.created_at
             FROM published_outputs po
             WHERE po.project_id = parent.id AND po.is_private = v.is_private
               AND po.file_type = f.file_type
               AND (po.created_at, po.output_id) < ($4::timestamp, $5::uuid)
               AND (po.created_at, po.output_id) > ($6::timestamp, $7::uuid)
             ORDER BY po.created_at, po.output_id
             LIMIT $8::int
         ) po
         WHERE NOT EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = parent.id)
         ORDER BY po.created_at, po.output_id
         LIMIT $8)
        UNION ALL
        SELECT g.output_id, g.created_at
        FROM vesper_gallery_settling_backward(parent.id, vesper_session_privacies(a.viewer_role),
                                             $3, $4, $5, $6, $7, $8) g
        WHERE EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = parent.id)
    ) po
    JOIN outputs o ON o.id = po.output_id
    ORDER BY o.created_at, o.id
) o

-- Writes.

-- name: update_output
-- Output $1's flags: starred $2 and approved $3, each kept when null.
UPDATE outputs
SET is_starred = coalesce($2::boolean, is_starred),
    is_approved = coalesce($3::boolean, is_approved)
WHERE id = $1::uuid

-- name: delete_output
-- Output $1 (its published_outputs row goes by cascade).
DELETE FROM outputs
WHERE id = $1::uuid
