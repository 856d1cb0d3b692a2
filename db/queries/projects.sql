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
-- can see, each skipping a project being deleted (migration 0016: a viewer has a few at a
-- time, until the purge ends); the access function then supplies the role (and re-checks
-- visibility) for the few rows kept. For those rows only, and only when asked, the cards' other reads come in
-- the same statement: with $8 the card figures (vesper_card_figures, migration 0014, as
-- stored_stats_by_projects reads them), with $9 the owner's profile (as profiles_by_ids).
WITH page AS (
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2::text IN ('ALL', 'OWNED') AND p.owner_id = $1::uuid
       AND NOT EXISTS (SELECT 1 FROM vesper_project_deletions d WHERE d.project_id = p.id)
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
       AND NOT EXISTS (SELECT 1 FROM vesper_project_deletions d WHERE d.project_id = p.id)
       AND (mp.updated_at, mp.project_id) < ($3, $4)
       AND (mp.updated_at, mp.project_id) > ($5, $6)
     ORDER BY mp.updated_at DESC, mp.project_id DESC
     LIMIT $7)
    UNION ALL
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2 IN ('ALL', 'SHARED') AND p.is_shared AND p.owner_id <> $1
       AND NOT EXISTS (SELECT 1 FROM vesper_project_deletions d WHERE d.project_id = p.id)
       AND NOT EXISTS (
           SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = $1)
       AND (p.updated_at, p.id) < ($3, $4) AND (p.updated_at, p.id) > ($5, $6)
     ORDER BY p.updated_at DESC, p.id DESC
     LIMIT $7)
), kept AS (
    SELECT page.id, page.name, page.description, page.cover_image_url, page.is_shared,
           page.created_at, page.updated_at, page.owner_id, a.viewer_role
    FROM page
    CROSS JOIN vesper_project_access($1, page.id) a
    ORDER BY page.updated_at DESC, page.id DESC
    LIMIT $7
)
SELECT kept.*, f.session_count, f.thumbnail_url, f.last_activity_at,
       o.id AS owner_found, o.username AS owner_username,
       o.display_name AS owner_display_name, o.avatar_url AS owner_avatar_url
FROM kept
LEFT JOIN LATERAL (
    SELECT * FROM vesper_card_figures(kept.id, kept.viewer_role) WHERE $8::boolean) f ON true
LEFT JOIN LATERAL (
    SELECT o.id, o.username, o.display_name, o.avatar_url
    FROM profiles o WHERE o.id = kept.owner_id AND $9::boolean) o ON true
ORDER BY kept.updated_at DESC, kept.id DESC

-- name: projects_page_backward
-- projects_page_forward walking the other way: the $7 rows just above the "before" bound,
-- oldest first (the caller reverses them).
WITH page AS (
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2::text IN ('ALL', 'OWNED') AND p.owner_id = $1::uuid
       AND NOT EXISTS (SELECT 1 FROM vesper_project_deletions d WHERE d.project_id = p.id)
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
       AND NOT EXISTS (SELECT 1 FROM vesper_project_deletions d WHERE d.project_id = p.id)
       AND (mp.updated_at, mp.project_id) < ($3, $4)
       AND (mp.updated_at, mp.project_id) > ($5, $6)
     ORDER BY mp.updated_at, mp.project_id
     LIMIT $7)
    UNION ALL
    (SELECT p.id, p.name, p.description, p.cover_image_url, p.is_shared, p.created_at,
            p.updated_at, p.owner_id
     FROM projects p
     WHERE $2 IN ('ALL', 'SHARED') AND p.is_shared AND p.owner_id <> $1
       AND NOT EXISTS (SELECT 1 FROM vesper_project_deletions d WHERE d.project_id = p.id)
       AND NOT EXISTS (
           SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = $1)
       AND (p.updated_at, p.id) < ($3, $4) AND (p.updated_at, p.id) > ($5, $6)
     ORDER BY p.updated_at, p.id
     LIMIT $7)
), kept AS (
    SELECT page.id, page.name, page.description, page.cover_image_url, page.is_shared,
           page.created_at, page.updated_at, page.owner_id, a.viewer_role
    FROM page
    CROSS JOIN vesper_project_access($1, page.id) a
    ORDER BY page.updated_at, page.id
    LIMIT $7
)
SELECT kept.*, f.session_count, f.thumbnail_url, f.last_activity_at,
       o.id AS owner_found, o.username AS owner_username,
       o.display_name AS owner_display_name, o.avatar_url AS owner_avatar_url
FROM kept
LEFT JOIN LATERAL (
    SELECT * FROM vesper_card_figures(kept.id, kept.viewer_role) WHERE $8::boolean) f ON true
LEFT JOIN LATERAL (
    SELECT o.id, o.username, o.display_name, o.avatar_url
    FROM profiles o WHERE o.id = kept.owner_id AND $9::boolean) o ON true
ORDER BY kept.updated_at, kept.id

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

-- Writes. Ids and timestamps are made here (production's columns have no defaults for
-- them): gen_random_uuid() and the transaction's time in UTC at millisecond precision,
-- one clock for every API process. updated_at moves only when a value really changes.

-- name: insert_project
-- A new project owned by $1; returns its id.
INSERT INTO projects (id, name, description, owner_id, is_shared, created_at, updated_at)
VALUES (gen_random_uuid(), $2::text, $3::text, $1::uuid, $4::boolean,
        (now() AT TIME ZONE 'UTC')::timestamp(3), (now() AT TIME ZONE 'UTC')::timestamp(3))
RETURNING id

-- name: update_project
-- Project $1 with name $2 and share flag $5 (each kept when null), description $3 and cover
-- $4 (each kept when its flag, $6 and $7, is false; null clears them).
UPDATE projects p
SET (name, description, cover_image_url, is_shared, updated_at) = (
    SELECT n.name, n.description, n.cover_image_url, n.is_shared,
           CASE WHEN (n.name, n.description, n.cover_image_url, n.is_shared)
                     IS DISTINCT FROM (p.name, p.description, p.cover_image_url, p.is_shared)
                THEN (now() AT TIME ZONE 'UTC')::timestamp(3)
                ELSE p.updated_at END
    FROM (SELECT coalesce($2::text, p.name),
                 CASE WHEN $6::boolean THEN $3::text ELSE p.description END,
                 CASE WHEN $7::boolean THEN $4::text ELSE p.cover_image_url END,
                 coalesce($5::boolean, p.is_shared)
         ) AS n (name, description, cover_image_url, is_shared))
WHERE p.id = $1::uuid

-- name: delete_project
-- Project $1 becomes invisible to everyone (migration 0016); its rows are purged by the
-- job queue (jobs/purge.py), which the caller enqueues in the same transaction.
INSERT INTO vesper_project_deletions (project_id)
VALUES ($1::uuid)
ON CONFLICT (project_id) DO NOTHING

-- name: upsert_member
-- Makes $2 a member of project $1 with role $3 (admin, editor or viewer): a new row, or a
-- new role for an existing one (joined_at kept); the project's updated_at moves when
-- anything changed. Returns whether it did.
WITH changed AS (
    INSERT INTO project_members AS m (id, project_id, user_id, role, joined_at)
    VALUES (gen_random_uuid(), $1::uuid, $2::uuid, $3::text,
            (now() AT TIME ZONE 'UTC')::timestamp(3))
    ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role
    WHERE m.role IS DISTINCT FROM excluded.role
    RETURNING m.project_id
), touched AS (
    UPDATE projects p
    SET updated_at = (now() AT TIME ZONE 'UTC')::timestamp(3)
    FROM changed
    WHERE p.id = changed.project_id
    RETURNING p.id
)
SELECT count(*) > 0 AS changed FROM touched

-- name: delete_member
-- Removes $2's membership of project $1 and moves the project's updated_at; returns
-- whether there was one.
WITH removed AS (
    DELETE FROM project_members m
    WHERE m.project_id = $1::uuid AND m.user_id = $2::uuid
    RETURNING m.project_id
), touched AS (
    UPDATE projects p
    SET updated_at = (now() AT TIME ZONE 'UTC')::timestamp(3)
    FROM removed
    WHERE p.id = removed.project_id
    RETURNING p.id
)
SELECT count(*) > 0 AS removed FROM touched
