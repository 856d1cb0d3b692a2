-- Undo 0006 without blocking writes to generations.
-- transactional: false

DROP INDEX CONCURRENTLY IF EXISTS generations_session_status_created_idx;
