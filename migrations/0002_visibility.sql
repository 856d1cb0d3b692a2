-- Visibility (API.md "Visibility"): the one place that says who sees which project and
-- which session. Reads join these instead of restating the rule.
--
-- Both are single-SELECT `language sql` functions, so the planner inlines them into the
-- calling statement: `vesper_project_access(viewer, p.id)` in a FROM list becomes three
-- primary-key / unique-index probes for that one project, never a scan of everything the
-- viewer can see. (The projects page, which must list what a viewer sees in order, spells
-- the same three branches out with a keyset and a LIMIT each: db/queries/projects.sql; a
-- test checks that both agree.)
-- depends: 0001_baseline

-- The API role of a project_members.role value. Production enforces the values in the
-- application only, so anything unknown reads as VIEWER (least privilege).
CREATE FUNCTION vesper_member_role(role text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE lower(role) WHEN 'admin' THEN 'ADMIN' WHEN 'editor' THEN 'EDITOR'
                ELSE 'VIEWER' END
$$;

-- How `viewer` sees `project`: no row when it is not visible; otherwise one row whose
-- `scope` is OWNED, MEMBER or SHARED (the branches are disjoint) and whose `viewer_role` is
-- OWNER, ADMIN, EDITOR, VIEWER, or null when the project is visible only because it is
-- shared. A membership row of the owner counts as ownership.
CREATE FUNCTION vesper_project_access(viewer uuid, project uuid)
RETURNS TABLE (scope text, viewer_role text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT 'OWNED', 'OWNER'
    FROM projects p
    WHERE p.id = project AND p.owner_id = viewer
    UNION ALL
    SELECT 'MEMBER', vesper_member_role(m.role)
    FROM project_members m
    JOIN projects p ON p.id = m.project_id
    WHERE m.project_id = project AND m.user_id = viewer AND p.owner_id <> viewer
    UNION ALL
    SELECT 'SHARED', NULL
    FROM projects p
    WHERE p.id = project AND p.is_shared AND p.owner_id <> viewer
      AND NOT EXISTS (
          SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = viewer)
$$;

-- Whether a viewer with `viewer_role` on a visible project sees a session: the owner sees
-- all of them; members of any role and shared-project viewers see public sessions only.
CREATE FUNCTION vesper_sees_session(viewer_role text, is_private boolean)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT viewer_role IS NOT DISTINCT FROM 'OWNER' OR NOT is_private
$$;
