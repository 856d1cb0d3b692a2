-- Projects: the keyset page of what a viewer sees, lookups by id, members.
-- Visibility comes from vesper_project_access (migrations/0002_visibility.sql). Keyset
-- bounds are exclusive: rows strictly below $3/$4 ("after") and strictly above $5/$6
-- ("before") in (updated_at, id) order; the caller passes sentinels for absent cursors
-- so that the predicates stay sargable row comparisons.

-- name: projects_page_forward
-- A page of the projects $1 sees, newest first (updated_at DESC, id DESC), at most $7
-- rows; $2 is the scope: ALL, OWNED, MEMBER or SHARED. The three branches are API.md's
-- disjoint scopes, each with its own ORDER BY ... LIMIT over an index in that order
-- (migrations 0004 and 0007: the owner's projects, the shared ones, the member's
-- member_projects rows), so that a page reads about $7 rows per branch whatever the viewer
-- can see; the access function then supplies the role (and re-checks visibility) for the
-- few rows kept.
WITH page AS (
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2::text IN ('ALL', 'OWNED') AND p.owner_id = $1::uuid
       AND (p.updated_at, p.id) < ($3::timestamp, $4::uuid)
       AND (p.updated_at, p.id) > ($5::timestamp, $6::uuid)
     ORDER BY p.updated_at DESC, p.id DESC
     LIMIT $7::int)
    UNION ALL
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM member_projects mp
     JOIN projects p ON p.id = mp.project_id
     WHERE $2 IN ('ALL', 'MEMBER') AND mp.user_id = $1 AND p.owner_id <> $1
       AND (mp.updated_at, mp.project_id) < ($3, $4)
       AND (mp.updated_at, mp.project_id) > ($5, $6)
     ORDER BY mp.updated_at DESC, mp.project_id DESC
     LIMIT $7)
    UNION ALL
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2 IN ('ALL', 'SHARED') AND p.is_shared AND p.owner_id <> $1
       AND NOT EXISTS (
           SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = $1)
       AND (p.updated_at, p.id) < ($3, $4) AND (p.updated_at, p.id) > ($5, $6)
     ORDER BY p.updated_at DESC, p.id DESC
     LIMIT $7)
)
SELECT page.id, page.name, page.description, page.cover_image_url, page.is_shared,
       page.created_at, page.updated_at, page.owner_id, a.viewer_role
FROM page
CROSS JOIN vesper_project_access($1, page.id) a
ORDER BY page.updated_at DESC, page.id DESC
LIMIT $7

-- name: projects_page_backward
-- projects_page_forward walking the other way: the $7 rows just above the "before" bound,
-- oldest first (the caller reverses them).
WITH page AS (
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2::text IN ('ALL', 'OWNED') AND p.owner_id = $1::uuid
       AND (p.updated_at, p.id) < ($3::timestamp, $4::uuid)
       AND (p.updated_at, p.id) > ($5::timestamp, $6::uuid)
     ORDER BY p.updated_at, p.id
     LIMIT $7::int)
    UNION ALL
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM member_projects mp
     JOIN projects p ON p.id = mp.project_id
     WHERE $2 IN ('ALL', 'MEMBER') AND mp.user_id = $1 AND p.owner_id <> $1
       AND (mp.updated_at, mp.project_id) < ($3, $4)
       AND (mp.updated_at, mp.project_id) > ($5, $6)
     ORDER BY mp.updated_at, mp.project_id
     LIMIT $7)
    UNION ALL
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2 IN ('ALL', 'SHARED') AND p.is_shared AND p.owner_id <> $1
       AND NOT EXISTS (
           SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = $1)
       AND (p.updated_at, p.id) < ($3, $4) AND (p.updated_at, p.id) > ($5, $6)
     ORDER BY p.updated_at, p.id
     LIMIT $7)
)
SELECT page.id, page.name, page.description, page.cover_image_url, page.is_shared,
       page.created_at, page.updated_at, page.owner_id, a.viewer_role
FROM page
CROSS JOIN vesper_project_access($1, page.id) a
ORDER BY page.updated_at, page.id
LIMIT $7

-- name: projects_by_ids
-- The projects among $2 that $1 sees, with the viewer's role (order restored by the caller).
SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
       p.updated_at, p.owner_id, a.viewer_role
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a
WHERE p.id = ANY($2::uuid[])

-- name: members_by_projects
-- The membership rows of the projects among $2 that $1 sees, by joined_at (id breaks
-- ties); a stray row naming the project's owner is not a membership.
-- (The ordered LATERAL keeps the lookup per project on project_members_project_id_idx; as
-- a plain join the planner hashes the page's projects and reads project_members whole.)
SELECT m.project_id, m.user_id, vesper_member_role(m.role) AS role, m.joined_at
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a
CROSS JOIN LATERAL (
    SELECT m.project_id, m.user_id, m.role, m.joined_at, m.id
    FROM project_members m
    WHERE m.project_id = p.id AND m.user_id <> p.owner_id
    ORDER BY m.joined_at, m.id
) m
WHERE p.id = ANY($2::uuid[])
ORDER BY m.project_id, m.joined_at, m.id
