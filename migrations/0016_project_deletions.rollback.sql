-- Undo 0016: the access function of 0012, and no record of deletions (a purge under way
-- stops finding its project hidden: run the queue dry before rolling back).

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

DROP TABLE vesper_project_deletions;
