-- vesper_project_access as one primary-key probe of the project and one unique-index probe
-- of the viewer's membership, whoever the viewer is.
--
-- The 0002 form was three UNION ALL branches, the first `WHERE p.id = project AND
-- p.owner_id = viewer`. In a generic plan (a prepared statement run often enough, or
-- plan_cache_mode = force_generic_plan) the planner served that branch with
-- projects_owner_updated_idx (owner_id, updated_at, id): owner_id is its leading column and
-- the id only a filter inside it, so every access check walked all of the viewer's
-- projects. On the small seed, for the profile owning 5,000 projects, the check cost
-- ~0.06 ms per project: 1.2 ms of the 1.4 ms the projects page took, and as much again for
-- the card figures. With one row looked up by its key and the rule evaluated on it, no
-- index on owner_id can be chosen and the cost is the same for every viewer.
--
-- Same answers as 0002: the owner (with or without a stray membership row of their own)
-- is OWNED/OWNER, a member MEMBER with the role, anyone else SHARED/null on a shared
-- project, no row otherwise; a null viewer sees nothing. The unique key on
-- (project_id, user_id) makes the join yield at most one row.
-- depends: 0011_project_stats_once

CREATE OR REPLACE FUNCTION vesper_project_access(viewer uuid, project uuid)
RETURNS TABLE (scope text, viewer_role text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN p.owner_id = viewer THEN 'OWNED'
                WHEN m.user_id IS NOT NULL THEN 'MEMBER'
                ELSE 'SHARED' END,
           CASE WHEN p.owner_id = viewer THEN 'OWNER'
                WHEN m.user_id IS NOT NULL THEN vesper_member_role(m.role) END
    FROM projects p
    LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = viewer
    WHERE p.id = project
      AND viewer IS NOT NULL
      AND (p.owner_id = viewer OR m.user_id IS NOT NULL OR p.is_shared)
$$;
