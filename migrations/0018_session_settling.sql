-- Making a session private or public, or moving it, in bounded time whatever it holds
-- (README "Big writes").
--
-- Until now the session's trigger (0007) rewrote the copies of its project and privacy in
-- every one of its published_outputs rows inside the user's transaction: 2 s for 125k
-- outputs, and past the statement timeout for a session a few times larger. Now a session
-- holding more than `vesper.settle_inline_rows` published outputs (1,000 unless that
-- setting says otherwise) is not rewritten there. The trigger records instead that the
-- session's rows are *settling* — for the project it leaves and the one it is in — and
-- queues a `settle_session` job (jobs/worker.py); the job rewrites the rows in bounded
-- steps (vesper_settle_step), each its own transaction, vacuums the table when it rewrote
-- many, then removes the records (vesper_settle_finish).
--
-- Why that is exact at every instant: a project with a settling session reads its gallery,
-- thumbnail and last activity session by session (vesper_gallery_settling_*, the
-- vesper_stats_* functions below), taking each session's project and privacy from the
-- sessions table — never from the copies — through the per-session orders of 0017; other
-- projects read their project-wide ranges of 0007 as before. Which way a read goes is
-- decided in the read's own statement, so on one snapshot: one that sees the write sees
-- the settling record (committed with it), and one that no longer sees the record sees
-- every step that rewrote the rows (they committed before the finish that removed it, which
-- is refused when the session changed since the walk's end).
-- A per-session read is bounded by the project's sessions (sessions are made by people),
-- and never reads a row of a session the viewer does not see.
--
-- Concurrency: the session's advisory lock of 0007, exclusive for the trigger and for each
-- step, shared for a row's publication. So a step and a change of the session serialise
-- (the step reads the walk and the session after the change, which restarts the walk), and
-- an output published during the walk copies the session's current values itself.
-- A session's id changing (nothing does that) still rewrites its rows at once.
-- depends: 0017_published_session_indexes

-- Projects with a settling session, read by every gallery, thumbnail and last activity.
CREATE TABLE vesper_settling_sessions (
    project_id uuid NOT NULL,
    session_id uuid NOT NULL,
    CONSTRAINT vesper_settling_sessions_pkey PRIMARY KEY (project_id, session_id),
    CONSTRAINT vesper_settling_sessions_project_id_fkey FOREIGN KEY (project_id)
        REFERENCES projects (id) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT vesper_settling_sessions_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX vesper_settling_sessions_session_idx ON vesper_settling_sessions (session_id);

-- Where the job has got to in a settling session's rows, in the order of
-- published_outputs_session_gallery_idx: the last row it walked (file type, created_at,
-- output id). ('', -infinity) is the start: the walk moves on to the first file type.
-- The job walking it (its PgQueuer id) and when it last stepped: one job walks a session at
-- a time, so a session changed again and again queues no crowd of jobs taking turns.
CREATE TABLE vesper_settle_walks (
    session_id uuid NOT NULL,
    file_type text NOT NULL DEFAULT '',
    created_at timestamp(3) NOT NULL DEFAULT '-infinity',
    output_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    requested_at timestamptz NOT NULL DEFAULT now(),
    walked_by bigint,
    stepped_at timestamptz,
    walked boolean NOT NULL DEFAULT false,  -- past the last row: the job finishes it
    CONSTRAINT vesper_settle_walks_pkey PRIMARY KEY (session_id),
    CONSTRAINT vesper_settle_walks_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE
);

-- How many rows a session may hold and still be rewritten, or deleted, in the user's
-- transaction: `vesper.settle_inline_rows`, 1,000 when not set.
CREATE FUNCTION vesper_inline_rows()
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(nullif(current_setting('vesper.settle_inline_rows', true), '')::integer,
                    1000)
$$;

-- The session trigger ---------------------------------------------------------------------

CREATE OR REPLACE FUNCTION vesper_published_on_session()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    inline_rows integer := vesper_inline_rows();
BEGIN
    PERFORM pg_advisory_xact_lock(vesper_session_lock_key(OLD.id));
    IF OLD.id = NEW.id AND (SELECT count(*) FROM (SELECT FROM published_outputs po
                                                  WHERE po.session_id = NEW.id
                                                  LIMIT inline_rows + 1) few) > inline_rows
    THEN
        INSERT INTO vesper_settling_sessions (project_id, session_id)
        VALUES (OLD.project_id, NEW.id), (NEW.project_id, NEW.id)
        ON CONFLICT DO NOTHING;
        INSERT INTO vesper_settle_walks (session_id) VALUES (NEW.id)
        ON CONFLICT (session_id) DO UPDATE
        SET file_type = DEFAULT, created_at = DEFAULT, output_id = DEFAULT,
            requested_at = DEFAULT, walked = DEFAULT;
        -- PgQueuer's enqueue (its job and its log row) unless a job for the session is
        -- waiting already; no dedupe key, which would also refuse a job while one runs.
        WITH job AS (
            INSERT INTO pgqueuer (priority, entrypoint, payload, execute_after, status)
            SELECT 0, 'settle_session', uuid_send(NEW.id), now(), 'queued'
            WHERE NOT EXISTS (SELECT FROM pgqueuer q
                              WHERE q.entrypoint = 'settle_session' AND q.status = 'queued'
                                AND q.payload = uuid_send(NEW.id))
            RETURNING id, priority, entrypoint
        )
        INSERT INTO pgqueuer_log (job_id, status, entrypoint, priority)
        SELECT id, 'queued', entrypoint, priority FROM job;
    ELSE
        UPDATE published_outputs
        SET project_id = NEW.project_id, is_private = NEW.is_private, session_id = NEW.id
        WHERE session_id = OLD.id;
    END IF;
    RETURN NULL;
END
$$;

-- Fired before the read model's trigger of the same event (triggers of one event fire in
-- name order, and project_stats_sync fires at once under SET CONSTRAINTS ALL IMMEDIATE):
-- its recomputation then sees the rewritten rows or the settling record.
ALTER TRIGGER published_outputs_sync ON sessions RENAME TO index_tables_sync;

-- One step of job `job`: up to `batch` rows of `session` walked and those whose copies
-- differ from the session rewritten; `walked` once the walk has passed the last row (the
-- job then finishes it: vesper_settle_finish). `settled` when there is nothing for the job
-- to do: nothing settling, or another job walks the session (it stepped less than
-- `stale_after` ago; a job whose worker died is taken again by the queue under its own id,
-- so it goes on). A session whose project is being deleted is not rewritten: the purge
-- deletes its rows, and its records go with the session's row.
CREATE FUNCTION vesper_settle_step(session uuid, batch integer, job bigint,
                                   stale_after interval, OUT rewritten integer,
                                   OUT walked boolean, OUT settled boolean)
LANGUAGE plpgsql
AS $$
DECLARE
    walk vesper_settle_walks;
    into_project uuid;
    private boolean;
    taken integer;
    changed integer;
    last_created timestamp(3);
    last_output uuid;
    todo integer := batch;
BEGIN
    rewritten := 0;
    walked := true;
    settled := true;
    PERFORM pg_advisory_xact_lock(vesper_session_lock_key(session));
    SELECT * INTO walk FROM vesper_settle_walks w WHERE w.session_id = session;
    IF NOT FOUND OR walk.walked_by <> job AND walk.stepped_at > now() - stale_after THEN
        RETURN;
    END IF;
    SELECT s.project_id, s.is_private INTO into_project, private
    FROM sessions s WHERE s.id = session;
    IF EXISTS (SELECT FROM vesper_project_deletions d WHERE d.project_id = into_project) THEN
        RETURN;
    END IF;
    settled := false;
    WHILE NOT walk.walked AND todo > 0 LOOP
        WITH picked AS (
            SELECT po.output_id, po.created_at
            FROM published_outputs po
            WHERE po.session_id = session AND po.file_type = walk.file_type
              AND (po.created_at, po.output_id) < (walk.created_at, walk.output_id)
            ORDER BY po.created_at DESC, po.output_id DESC
            LIMIT todo
        ), rewrite AS (
            UPDATE published_outputs po
            SET project_id = into_project, is_private = private
            FROM picked
            WHERE po.output_id = picked.output_id
              AND (po.project_id, po.is_private) IS DISTINCT FROM (into_project, private)
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM picked), (SELECT count(*) FROM rewrite),
               last.created_at, last.output_id
        INTO taken, changed, last_created, last_output
        FROM (SELECT) AS one
        LEFT JOIN LATERAL (SELECT p.created_at, p.output_id FROM picked p
                           ORDER BY p.created_at, p.output_id LIMIT 1) last ON true;
        todo := todo - taken;
        rewritten := rewritten + changed;
        IF taken > 0 THEN
            walk.created_at := last_created;
            walk.output_id := last_output;
        END IF;
        IF todo > 0 THEN  -- this file type is done: the next one, or the end
            SELECT min(po.file_type) INTO walk.file_type
            FROM published_outputs po
            WHERE po.session_id = session AND po.file_type > walk.file_type;
            walk.walked := walk.file_type IS NULL;
            walk.file_type := coalesce(walk.file_type, '');
            walk.created_at := 'infinity';
            walk.output_id := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
        END IF;
    END LOOP;
    walked := walk.walked;
    UPDATE vesper_settle_walks w
    SET file_type = walk.file_type, created_at = walk.created_at, output_id = walk.output_id,
        walked = walk.walked, walked_by = job, stepped_at = now()
    WHERE w.session_id = session;
END
$$;

-- The end of job `job`'s walk of `session`: its records removed, and its project(s) read
-- their ranges again — unless the session changed since the walk ended (the walk started
-- again: false) or another job took the walk over.
CREATE FUNCTION vesper_settle_finish(session uuid, job bigint)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(vesper_session_lock_key(session));
    DELETE FROM vesper_settle_walks w
    WHERE w.session_id = session AND w.walked AND w.walked_by = job;
    IF NOT FOUND THEN
        RETURN NOT EXISTS (SELECT FROM vesper_settle_walks w WHERE w.session_id = session);
    END IF;
    DELETE FROM vesper_settling_sessions x WHERE x.session_id = session;
    RETURN true;
END
$$;

-- Reads while a project has a settling session ---------------------------------------------

-- The gallery page of gallery_page_forward (db/queries/outputs.sql) read session by
-- session: the newest row within the bounds of each (visible session, file type), the
-- `size` newest of those heads, and the `size` newest rows of their sessions and types.
-- Exact: a row among the page's `size` newest has fewer than `size` rows before it, so its
-- (session, type) head is among the `size` newest heads. PL/pgSQL, so that the planner does
-- not inline it into gallery_page_*: inlined, its cost made the page's prepared statement
-- keep planning afresh at every call (0.36 ms more per page, measured), where now the
-- generic plan sees one function call behind the "anything settling?" test.
CREATE FUNCTION vesper_gallery_settling_forward(
    project uuid, privacies boolean[], file_types text[], below_at timestamp,
    below_id uuid, above_at timestamp, above_id uuid, size integer)
RETURNS TABLE (output_id uuid, created_at timestamp(3))
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 41
AS $$
BEGIN
    RETURN QUERY
    SELECT po.output_id, po.created_at
    FROM (
        SELECT h.session_id, h.file_type
        FROM sessions s
        CROSS JOIN unnest(file_types) AS f (file_type)
        CROSS JOIN LATERAL (
            SELECT po.session_id, po.file_type, po.created_at, po.output_id
            FROM published_outputs po
            WHERE po.session_id = s.id AND po.file_type = f.file_type
              AND (po.created_at, po.output_id) < (below_at, below_id)
              AND (po.created_at, po.output_id) > (above_at, above_id)
            ORDER BY po.created_at DESC, po.output_id DESC
            LIMIT 1
        ) h
        WHERE s.project_id = project AND s.is_private = ANY (privacies)
        ORDER BY h.created_at DESC, h.output_id DESC
        LIMIT size
    ) head
    CROSS JOIN LATERAL (
        SELECT po.output_id, po.created_at
        FROM published_outputs po
        WHERE po.session_id = head.session_id AND po.file_type = head.file_type
          AND (po.created_at, po.output_id) < (below_at, below_id)
          AND (po.created_at, po.output_id) > (above_at, above_id)
        ORDER BY po.created_at DESC, po.output_id DESC
        LIMIT size
    ) po
    ORDER BY po.created_at DESC, po.output_id DESC
    LIMIT size;
END
$$;

-- vesper_gallery_settling_forward walking the other way: the `size` oldest rows above the
-- "before" bound.
CREATE FUNCTION vesper_gallery_settling_backward(
    project uuid, privacies boolean[], file_types text[], below_at timestamp,
    below_id uuid, above_at timestamp, above_id uuid, size integer)
RETURNS TABLE (output_id uuid, created_at timestamp(3))
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 41
AS $$
BEGIN
    RETURN QUERY
    SELECT po.output_id, po.created_at
    FROM (
        SELECT h.session_id, h.file_type
        FROM sessions s
        CROSS JOIN unnest(file_types) AS f (file_type)
        CROSS JOIN LATERAL (
            SELECT po.session_id, po.file_type, po.created_at, po.output_id
            FROM published_outputs po
            WHERE po.session_id = s.id AND po.file_type = f.file_type
              AND (po.created_at, po.output_id) < (below_at, below_id)
              AND (po.created_at, po.output_id) > (above_at, above_id)
            ORDER BY po.created_at, po.output_id
            LIMIT 1
        ) h
        WHERE s.project_id = project AND s.is_private = ANY (privacies)
        ORDER BY h.created_at, h.output_id
        LIMIT size
    ) head
    CROSS JOIN LATERAL (
        SELECT po.output_id, po.created_at
        FROM published_outputs po
        WHERE po.session_id = head.session_id AND po.file_type = head.file_type
          AND (po.created_at, po.output_id) < (below_at, below_id)
          AND (po.created_at, po.output_id) > (above_at, above_id)
        ORDER BY po.created_at, po.output_id
        LIMIT size
    ) po
    ORDER BY po.created_at, po.output_id
    LIMIT size;
END
$$;

-- 0009's thumbnail: the project-wide ranges, or the first entry of each visible session's
-- thumbnail order while the project has a settling session.
CREATE OR REPLACE FUNCTION vesper_stats_thumbnail(project uuid, privacies boolean[])
RETURNS TABLE (output_id uuid, url text, generation_created_at timestamp(3),
               created_at timestamp(3))
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT t.output_id, o.file_url, t.generation_created_at, t.created_at
    FROM (
        (SELECT po.output_id, po.generation_created_at, po.created_at
         FROM unnest(privacies) AS v (is_private)
         CROSS JOIN LATERAL (
             SELECT po.output_id, po.generation_created_at, po.created_at
             FROM published_outputs po
             WHERE po.project_id = project AND po.is_private = v.is_private
               AND po.file_type = 'image'
             ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
             LIMIT 1
         ) po
         WHERE NOT EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = project)
         ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
         LIMIT 1)
        UNION ALL
        (SELECT po.output_id, po.generation_created_at, po.created_at
         FROM sessions s
         CROSS JOIN LATERAL (
             SELECT po.output_id, po.generation_created_at, po.created_at
             FROM published_outputs po
             WHERE po.session_id = s.id AND po.file_type = 'image'
             ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
             LIMIT 1
         ) po
         WHERE s.project_id = project AND s.is_private = ANY (privacies)
           AND EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = project)
         ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
         LIMIT 1)
    ) t
    JOIN outputs o ON o.id = t.output_id
$$;

-- 0009's last activity, the same two ways.
CREATE OR REPLACE FUNCTION vesper_stats_last_activity(project uuid, privacies boolean[])
RETURNS timestamp(3)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT max(t.created_at)
    FROM (
        SELECT po.created_at
        FROM unnest(privacies) AS v (is_private)
        CROSS JOIN unnest(ARRAY['image', 'video']) AS f (file_type)
        CROSS JOIN LATERAL (
            SELECT po.created_at
            FROM published_outputs po
            WHERE po.project_id = project AND po.is_private = v.is_private
              AND po.file_type = f.file_type
            ORDER BY po.created_at DESC
            LIMIT 1
        ) po
        WHERE NOT EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = project)
        UNION ALL
        SELECT po.created_at
        FROM sessions s
        CROSS JOIN unnest(ARRAY['image', 'video']) AS f (file_type)
        CROSS JOIN LATERAL (
            SELECT po.created_at
            FROM published_outputs po
            WHERE po.session_id = s.id AND po.file_type = f.file_type
            ORDER BY po.created_at DESC
            LIMIT 1
        ) po
        WHERE s.project_id = project AND s.is_private = ANY (privacies)
          AND EXISTS (SELECT FROM vesper_settling_sessions x WHERE x.project_id = project)
    ) t
$$;

-- The read model's session trigger (0009, 0011) recounted the sessions only, the rewritten
-- published_outputs rows firing the rest; a settling session rewrites none in the user's
-- transaction, so a move or a privacy change now recomputes the thumbnails and last
-- activity too (once per project and firing, as before).
CREATE OR REPLACE FUNCTION vesper_stats_on_row()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    projects uuid[] := CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.project_id]
                                  WHEN 'DELETE' THEN ARRAY[OLD.project_id]
                                  ELSE ARRAY[OLD.project_id, NEW.project_id] END;
BEGIN
    PERFORM vesper_stats_refresh_once(projects, TG_ARGV[0]);
    IF TG_ARGV[0] = 'sessions' AND TG_OP = 'UPDATE' THEN
        PERFORM vesper_stats_refresh_once(projects, 'outputs');
    END IF;
    RETURN NULL;
END
$$;
