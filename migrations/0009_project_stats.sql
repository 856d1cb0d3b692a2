-- The ProjectStats read model (expand step): one row per project holding what the projects
-- list shows, for the two classes of viewer — the owner, who sees every session, and
-- everyone else, who sees public sessions only (API.md "Visibility"): session counts, the
-- thumbnail (output id, url and its ordering key) and the last activity.
--
-- Kept exact in the transaction of every write that changes a figure, by triggers
-- (whoever writes: this API or the existing application during a rollout):
-- sessions inserted, deleted, moved or made private/public recount the sessions; rows
-- entering, leaving or changing in published_outputs (an output inserted or deleted, a
-- generation completed, failed, cancelled or dismissed, a session's privacy toggled — see
-- 0007) recompute the thumbnails and last activity; a thumbnail's URL changing recomputes
-- them too; a new project gets its row; a deleted one loses it (foreign key).
--
-- Concurrency: recompute under a row lock. A trigger first locks the project's stats row
-- (creating it if missing), then recomputes the figures with new statements, which under
-- READ COMMITTED take a snapshot after the lock was granted: a writer that held the lock
-- before has committed, so its changes are seen; a writer that comes later waits for this
-- one and recomputes after it. Every writer recomputes last, so the row ends equal to the
-- base tables whatever the interleaving — no increments that a lost update could skew.
-- The triggers run when the transaction commits (below), so the stats row is the last lock
-- a writer takes; a writer that touches several projects locks them in the order it
-- touched them, so two such writers crossing each other can still deadlock (and one is
-- retried by the client). Recomputing is bounded: the thumbnail and last
-- activity are a few index probes of published_outputs; the counts read the project's
-- (project_id, is_private) index range (sessions are created by people, not machines).
-- Heartbeat updates of generations.parameters touch none of this.
-- depends: 0008_index_tables_backfill

CREATE TABLE project_stats (
    project_id uuid NOT NULL,
    owner_session_count integer NOT NULL DEFAULT 0,
    public_session_count integer NOT NULL DEFAULT 0,
    owner_thumbnail_output_id uuid,
    owner_thumbnail_url text,
    owner_thumbnail_generation_created_at timestamp(3),
    owner_thumbnail_created_at timestamp(3),
    public_thumbnail_output_id uuid,
    public_thumbnail_url text,
    public_thumbnail_generation_created_at timestamp(3),
    public_thumbnail_created_at timestamp(3),
    owner_last_activity_at timestamp(3),
    public_last_activity_at timestamp(3),
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT project_stats_pkey PRIMARY KEY (project_id),
    CONSTRAINT project_stats_project_id_fkey FOREIGN KEY (project_id)
        REFERENCES projects (id) ON DELETE CASCADE ON UPDATE CASCADE
);

-- The figures, computed from the base tables for the sessions of the given privacy values
-- (vesper_session_privacies: {false, true} for the owner, {false} for anyone else). The
-- live path (db/queries/stats.sql) and the repair job use the same functions.

CREATE FUNCTION vesper_stats_session_count(project uuid, privacies boolean[])
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT count(*)::integer
    FROM unnest(privacies) AS v (is_private)
    JOIN sessions s ON s.project_id = project AND s.is_private = v.is_private
$$;

-- The newest published image (API.md "Thumbnail"): the first entry per privacy value of
-- published_outputs_thumbnail_idx.
CREATE FUNCTION vesper_stats_thumbnail(project uuid, privacies boolean[])
RETURNS TABLE (output_id uuid, url text, generation_created_at timestamp(3),
               created_at timestamp(3))
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT po.output_id, o.file_url, po.generation_created_at, po.created_at
    FROM unnest(privacies) AS v (is_private)
    CROSS JOIN LATERAL (
        SELECT po.output_id, po.generation_created_at, po.created_at
        FROM published_outputs po
        WHERE po.project_id = project AND po.is_private = v.is_private
          AND po.file_type = 'image'
        ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
        LIMIT 1
    ) po
    JOIN outputs o ON o.id = po.output_id
    ORDER BY po.generation_created_at DESC, po.created_at DESC, po.output_id DESC
    LIMIT 1
$$;

-- The newest published output's created_at: the first entry per privacy value and file
-- type (the FileType enum) of published_outputs_gallery_idx.
CREATE FUNCTION vesper_stats_last_activity(project uuid, privacies boolean[])
RETURNS timestamp(3)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT max(po.created_at)
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
$$;

-- Locks each project's stats row (creating missing ones) in id order and recomputes the
-- counts (`sessions`), the thumbnails and last activity (`outputs`), or everything for a
-- row it had to create. A project that no longer exists is skipped.
CREATE FUNCTION vesper_stats_refresh(projects uuid[], sessions boolean, outputs boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    project uuid;
    created integer;
BEGIN
    FOR project IN SELECT DISTINCT p FROM unnest(projects) AS p WHERE p IS NOT NULL ORDER BY p
    LOOP
        INSERT INTO project_stats (project_id)
        SELECT id FROM projects WHERE id = project
        ON CONFLICT (project_id) DO NOTHING;
        GET DIAGNOSTICS created = ROW_COUNT;
        PERFORM 1 FROM project_stats WHERE project_id = project FOR UPDATE;
        IF sessions OR created > 0 THEN
            UPDATE project_stats
            SET owner_session_count = vesper_stats_session_count(project, '{false,true}'),
                public_session_count = vesper_stats_session_count(project, '{false}'),
                refreshed_at = now()
            WHERE project_id = project;
        END IF;
        IF outputs OR created > 0 THEN
            UPDATE project_stats
            SET (owner_thumbnail_output_id, owner_thumbnail_url,
                 owner_thumbnail_generation_created_at, owner_thumbnail_created_at)
                    = (SELECT * FROM vesper_stats_thumbnail(project, '{false,true}')),
                (public_thumbnail_output_id, public_thumbnail_url,
                 public_thumbnail_generation_created_at, public_thumbnail_created_at)
                    = (SELECT * FROM vesper_stats_thumbnail(project, '{false}')),
                owner_last_activity_at = vesper_stats_last_activity(project, '{false,true}'),
                public_last_activity_at = vesper_stats_last_activity(project, '{false}'),
                refreshed_at = now()
            WHERE project_id = project;
        END IF;
    END LOOP;
END
$$;

-- Triggers -------------------------------------------------------------------------------
-- Deferred to the end of the writing transaction (constraint triggers), so that the stats
-- row lock is the last lock a writer takes: taken mid-transaction it would be held while
-- the same transaction goes on to lock sessions and generations, which a concurrent
-- cascade (a session deleted with its outputs) locks in the opposite order — a deadlock.

CREATE FUNCTION vesper_stats_on_project_insert()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM vesper_stats_refresh(ARRAY(SELECT id FROM new_rows), true, true);
    RETURN NULL;
END
$$;

-- A new project's row cannot be locked by anyone else: created at once.
CREATE TRIGGER project_stats_sync
AFTER INSERT ON projects REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION vesper_stats_on_project_insert();

-- Recomputes the figures of the project(s) of the row written: the counts when fired on
-- sessions (TG_ARGV[0] = 'sessions'), the thumbnails and last activity on
-- published_outputs ('outputs'). A move touches both projects.
CREATE FUNCTION vesper_stats_on_row()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    projects uuid[];
BEGIN
    projects := CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.project_id]
                           WHEN 'DELETE' THEN ARRAY[OLD.project_id]
                           ELSE ARRAY[OLD.project_id, NEW.project_id] END;
    PERFORM vesper_stats_refresh(projects, TG_ARGV[0] = 'sessions', TG_ARGV[0] = 'outputs');
    RETURN NULL;
END
$$;

-- Only moves and privacy changes count (a generation created in a session bumps its
-- updated_at: that costs nothing here).
CREATE CONSTRAINT TRIGGER project_stats_sync
AFTER INSERT OR DELETE OR UPDATE OF project_id, is_private ON sessions
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION vesper_stats_on_row('sessions');

CREATE CONSTRAINT TRIGGER project_stats_sync
AFTER INSERT OR DELETE OR UPDATE ON published_outputs
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION vesper_stats_on_row('outputs');

-- The thumbnail carries the output's URL.
CREATE FUNCTION vesper_stats_on_output_url()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM vesper_stats_refresh(
        ARRAY(SELECT po.project_id FROM published_outputs po WHERE po.output_id = NEW.id),
        false, true);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER project_stats_sync
AFTER UPDATE OF file_url ON outputs
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (OLD.file_url IS DISTINCT FROM NEW.file_url)
EXECUTE FUNCTION vesper_stats_on_output_url();
