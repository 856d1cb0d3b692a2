-- Undo 0004 without blocking writes to projects.
-- transactional: false

DROP INDEX CONCURRENTLY IF EXISTS projects_shared_updated_idx;
DROP INDEX CONCURRENTLY IF EXISTS projects_owner_updated_idx;
