-- Deleting a project in bounded time (README "Big writes"). deleteProject records the
-- project here and enqueues its purge (jobs/purge.py) in the same transaction, and does
-- nothing else proportional to what the project holds. From that commit the project is
-- invisible to everyone: vesper_project_access, which every read and every write's check
-- goes through (sessions, generations, outputs, the gallery, the card figures, node
-- lookups, subscription events), answers no row for it, and the projects page's branches
-- skip it before their LIMIT (db/queries/projects.sql). The purge then deletes the
-- project's rows in bounded batches, each its own transaction, the project's row last —
-- and this row with it, by the foreign key.
-- depends: 0015_job_queue

CREATE TABLE vesper_project_deletions (
    project_id uuid NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vesper_project_deletions_pkey PRIMARY KEY (project_id),
    CONSTRAINT vesper_project_deletions_project_id_fkey FOREIGN KEY (project_id)
        REFERENCES projects (id) ON DELETE CASCADE ON UPDATE CASCADE
);

-- vesper_project_access of 0012, and no row for a project being deleted.
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
      AND NOT EXISTS (SELECT 1 FROM vesper_project_deletions d WHERE d.project_id = p.id)
$$;
