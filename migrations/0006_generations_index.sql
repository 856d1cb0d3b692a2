-- Generations per session and status, newest first (the roadmap's "latest completed per
-- session"): a session's generations page walks (created_at DESC, id DESC) within each
-- status it lists and merges them (db/queries/generations.sql), so a page reads a page per
-- status, never the session's whole history; a status filter reads one range. Built
-- CONCURRENTLY (generations is write-hot); see 0004 for the leftover handling.
-- depends: 0005_sessions_index
-- transactional: false

DROP INDEX CONCURRENTLY IF EXISTS generations_session_status_created_idx;
CREATE INDEX CONCURRENTLY generations_session_status_created_idx
    ON generations (session_id, status, created_at DESC, id DESC);
