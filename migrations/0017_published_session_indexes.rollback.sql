-- Undo 0017: 0007's (session_id) index back, then the per-session orders dropped without
-- blocking writes. The index comes back with a plain build, which holds off writes to
-- published_outputs while it reads the table (seconds per million rows): every concurrent
-- build of ours is a guarded forward one (tests/db/ops/test_index_guard.py).
-- transactional: false

CREATE INDEX IF NOT EXISTS published_outputs_session_idx ON published_outputs (session_id);
DROP INDEX CONCURRENTLY IF EXISTS published_outputs_session_thumbnail_idx;
DROP INDEX CONCURRENTLY IF EXISTS published_outputs_session_gallery_idx;
