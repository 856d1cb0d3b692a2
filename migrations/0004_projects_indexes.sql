-- The projects page (db/queries/projects.sql) walks each scope in (updated_at DESC, id DESC)
-- order and stops after a page: the owner's projects by owner, the shared ones through a
-- partial index. (Production's projects_updated_id_idx serves neither: it would read every
-- project newer than the page to find the viewer's.)
--
-- Built CONCURRENTLY, so writes to projects keep flowing during the build; that cannot run
-- inside a transaction. A failed concurrent build leaves an INVALID index behind and this
-- migration unrecorded: the DROP ... IF EXISTS before each build removes such a leftover
-- when the migration runs again (a migration that is not recorded as applied cannot have
-- left a valid index that anything relies on).
-- depends: 0003_session_privacies
-- transactional: false

DROP INDEX CONCURRENTLY IF EXISTS projects_owner_updated_idx;
CREATE INDEX CONCURRENTLY projects_owner_updated_idx
    ON projects (owner_id, updated_at DESC, id DESC);

DROP INDEX CONCURRENTLY IF EXISTS projects_shared_updated_idx;
CREATE INDEX CONCURRENTLY projects_shared_updated_idx
    ON projects (updated_at DESC, id DESC) WHERE is_shared;
