-- The job queue (PgQueuer's tables, migration 0015) as `vesper jobs` and /metrics see it,
-- and the purge of a deleted project (migration 0016) that its jobs run.

-- name: jobs_summary
-- Jobs waiting or running by kind, with the age in seconds of the oldest of each.
SELECT entrypoint, status::text AS status, count(*) AS jobs,
       extract(epoch FROM now() - min(created))::float8 AS oldest_s
FROM pgqueuer
WHERE status IN ('queued', 'picked')
GROUP BY entrypoint, status
ORDER BY entrypoint, status

-- name: jobs_failed
-- Jobs that failed for good (held for a person to look at), newest first, at most $1.
SELECT id, entrypoint, payload, attempts, updated
FROM pgqueuer
WHERE status = 'failed'
ORDER BY updated DESC, id DESC
LIMIT $1::int

-- name: jobs_failed_ids
-- Every job that failed for good.
SELECT id FROM pgqueuer WHERE status = 'failed' ORDER BY id

-- name: jobs_depth
-- What /metrics reports: jobs waiting or running, and the age of the oldest in seconds.
SELECT count(*) AS depth,
       coalesce(extract(epoch FROM now() - min(created)), 0)::float8 AS oldest_s
FROM pgqueuer
WHERE status IN ('queued', 'picked')

-- name: purge_generations
-- Up to $2 generations of deleted project $1, with (by the foreign keys' cascades) their
-- outputs, the outputs' published_outputs rows and their generation_jobs; how many. The
-- triggers of what goes recompute the project's read-model row, a few index probes.
WITH batch AS (
    SELECT g.id
    FROM vesper_project_deletions d
    JOIN sessions s ON s.project_id = d.project_id
    JOIN generations g ON g.session_id = s.id
    WHERE d.project_id = $1::uuid
    LIMIT $2::int
), gone AS (
    DELETE FROM generations g USING batch WHERE g.id = batch.id
    RETURNING 1
)
SELECT count(*) FROM gone

-- name: purge_sessions
-- Up to $2 sessions of deleted project $1 (their generations already gone); how many.
WITH batch AS (
    SELECT s.id
    FROM vesper_project_deletions d
    JOIN sessions s ON s.project_id = d.project_id
    WHERE d.project_id = $1::uuid
    LIMIT $2::int
), gone AS (
    DELETE FROM sessions s USING batch WHERE s.id = batch.id
    RETURNING 1
)
SELECT count(*) FROM gone

-- name: purge_held_elsewhere
-- Whether deleted project $1 holds a session that another project still reads session by
-- session (a big session deleted by moving it here, migration 0018): its rows' index
-- entries were in that project's ranges.
SELECT EXISTS (
    SELECT FROM vesper_settling_sessions x
    JOIN sessions s ON s.id = x.session_id
    WHERE s.project_id = $1::uuid AND x.project_id <> $1::uuid
)

-- name: purge_project
-- Deleted project $1's own row, with its members, its read-model row and its deletion
-- record (cascades); how many (0 when it is gone already).
WITH gone AS (
    DELETE FROM projects p
    USING vesper_project_deletions d
    WHERE p.id = $1::uuid AND d.project_id = p.id
    RETURNING 1
)
SELECT count(*) FROM gone

-- name: settle_step
-- One step of job $3 settling session $1's published_outputs rows (migration 0018): up to
-- $2 walked, those with stale copies rewritten; how many, whether the walk is at its end,
-- and whether the job has nothing to do (nothing settling, or the session walked by
-- another job that stepped less than $4 seconds ago).
SELECT rewritten, walked, settled
FROM vesper_settle_step($1::uuid, $2::int, $3::bigint, make_interval(secs => $4::float8))

-- name: settle_finish
-- The end of job $2's walk of session $1: false when the session changed since (the walk
-- starts again).
SELECT vesper_settle_finish($1::uuid, $2::bigint)

-- name: vacuum_published
-- The index entries of the rows a job rewrote or deleted cleaned up (the rows the gallery's
-- ranges would otherwise step over until autovacuum comes), and the statistics refreshed.
VACUUM (ANALYZE) published_outputs
