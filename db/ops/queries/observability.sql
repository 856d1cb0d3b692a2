-- What the database says about our statements (pg_stat_statements must be installed in
-- this database and preloaded by the server; db/ops/statements.py checks both first).

-- name: extension_installed
-- Whether pg_stat_statements is installed in this database.
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')

-- name: top_statements
-- This database's $1 statements with the most total execution time.
SELECT s.query, s.calls, s.total_exec_time AS total_ms, s.mean_exec_time AS mean_ms,
       s.rows, s.shared_blks_hit, s.shared_blks_read
FROM pg_stat_statements s
WHERE s.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
ORDER BY s.total_exec_time DESC
LIMIT $1::int

-- name: install_extension
-- For the embedded server, which preloads the library: the view in this database too.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements
