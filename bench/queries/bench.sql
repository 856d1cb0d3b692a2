-- What `vesper bench` (bench/) runs besides the server's own statements: the bench
-- database's bookkeeping, the ids its scenarios start from, and the naive strategy — the
-- multi-query projects page the read path replaced, kept here only to be measured against.
-- The viewers come from explain.sql (explain_heavy_owner, explain_largest_project_owner,
-- explain_largest_project).

-- name: bench_database_exists
-- Whether the server holds a database named $1 (the bench's per-scale database).
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1::text)

-- name: bench_project_count
-- How many projects the database holds: 0 means seed it, the scale's number means reuse it.
SELECT count(*)::int FROM projects

-- name: bench_server_version
-- The PostgreSQL version, for the report.
SELECT current_setting('server_version')

-- name: bench_write_session
-- The session of project $1 the mixed scenario's writes go to: its newest image session.
SELECT s.id
FROM sessions s
WHERE s.project_id = $1::uuid AND s.type = 'image'
ORDER BY s.updated_at DESC, s.id DESC
LIMIT 1

-- name: bench_forget_writes
-- Deletes the generations the mixed scenario created (model $1), with their outputs, so
-- that a reused database holds the seed's data again (the triggers recompute the stats).
DELETE FROM generations WHERE model_id = $1::text

-- name: bench_naive_projects
-- Naive strategy, 1 of 4: every project $1 sees, whole, with the viewer's role.
SELECT p.id, p.name, p.description, p.is_shared, p.updated_at, p.owner_id, a.viewer_role
FROM projects p
CROSS JOIN vesper_project_access($1::uuid, p.id) a

-- name: bench_naive_sessions
-- Naive strategy, 2 of 4: every session of the projects $1 (privacy is filtered in Python).
SELECT s.id, s.project_id, s.is_private
FROM sessions s
WHERE s.project_id = ANY($1::uuid[])

-- name: bench_naive_images
-- Naive strategy, 3 of 4: the image outputs of every completed generation of the sessions
-- $1, with the keys the thumbnail is chosen by (the choice is made in Python). Read
-- through a cursor: at small scale this is about a million rows.
SELECT g.session_id, g.created_at AS generation_created_at, o.created_at, o.id, o.file_url
FROM generations g
JOIN outputs o ON o.generation_id = g.id
WHERE g.session_id = ANY($1::uuid[]) AND g.status = 'completed' AND o.file_type = 'image'

-- name: bench_naive_owners
-- Naive strategy, 4 of 4: the owners of the page's projects $1.
SELECT id, username, display_name
FROM profiles
WHERE id = ANY($1::uuid[])

-- name: bench_replication_settings
-- Whether a streaming replica of the server can be built by pg_basebackup: its major
-- version (the replica runs the embedded binaries), whether it writes and sends WAL for
-- replicas (a base backup with streamed WAL takes two senders), and whether the login may
-- open a replication connection.
SELECT current_setting('server_version_num')::int / 10000 AS major,
       current_setting('wal_level') AS wal_level,
       current_setting('max_wal_senders')::int AS max_wal_senders,
       current_user AS login,
       (SELECT r.rolreplication OR r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
           AS may_replicate

-- name: bench_cluster_bytes
-- What a base backup copies, about: the size of every database the login may connect to.
SELECT coalesce(sum(pg_database_size(d.oid)), 0)::bigint
FROM pg_database d
WHERE has_database_privilege(d.oid, 'CONNECT')
