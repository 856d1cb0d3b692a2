-- Undo 0005 without blocking writes to sessions.
-- transactional: false

DROP INDEX CONCURRENTLY IF EXISTS sessions_project_visible_updated_idx;
