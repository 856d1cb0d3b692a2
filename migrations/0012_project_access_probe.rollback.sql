-- Undo 0012: the three-branch form of 0002.

CREATE OR REPLACE FUNCTION vesper_project_access(viewer uuid, project uuid)
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
