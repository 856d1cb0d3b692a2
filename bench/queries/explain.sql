-- What `vesper explain` (bench/explain.py) explains: representative viewers and, for each,
-- the rows its hot statements start from. Operator queries, run once per report; they may
-- aggregate.

-- name: explain_heavy_owner
-- The profile owning the most projects.
SELECT owner_id FROM projects GROUP BY owner_id ORDER BY count(*) DESC, owner_id LIMIT 1

-- name: explain_heavy_member
-- The profile with the most memberships in projects it does not own.
SELECT m.user_id
FROM project_members m
JOIN projects p ON p.id = m.project_id AND p.owner_id <> m.user_id
GROUP BY m.user_id
ORDER BY count(*) DESC, m.user_id
LIMIT 1

-- name: explain_outsider
-- A profile that owns nothing and is a member of nothing: it sees the shared projects only.
SELECT pr.id
FROM profiles pr
WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.owner_id = pr.id)
  AND NOT EXISTS (SELECT 1 FROM project_members m WHERE m.user_id = pr.id)
ORDER BY pr.id
LIMIT 1

-- name: explain_largest_project_owner
-- The owner of the project with the most sessions.
SELECT p.owner_id
FROM sessions s
JOIN projects p ON p.id = s.project_id
GROUP BY p.id
ORDER BY count(*) DESC, p.id
LIMIT 1

-- name: explain_largest_project
-- Of the projects $1 sees, the one with the most sessions $1 sees.
SELECT s.project_id
FROM sessions s
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
WHERE s.project_id IN (
        SELECT id FROM projects WHERE owner_id = $1 OR is_shared
        UNION ALL
        SELECT project_id FROM project_members WHERE user_id = $1)
  AND vesper_sees_session(a.viewer_role, s.is_private)
GROUP BY s.project_id
ORDER BY count(*) DESC, s.project_id
LIMIT 1

-- name: explain_largest_session
-- Of the sessions of project $2 that $1 sees, the one with the most generations.
SELECT g.session_id
FROM sessions s
CROSS JOIN vesper_project_access($1::uuid, s.project_id) a
JOIN generations g ON g.session_id = s.id
WHERE s.project_id = $2::uuid AND vesper_sees_session(a.viewer_role, s.is_private)
GROUP BY g.session_id
ORDER BY count(*) DESC, g.session_id
LIMIT 1

-- name: explain_generations
-- How many generations the database holds (an estimate is enough: is it big enough for the
-- planner to choose the plans it will choose in production?).
SELECT count(*) FROM generations
