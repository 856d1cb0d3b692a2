-- Two index tables: the orders the hot pages need span tables, and a PostgreSQL index
-- covers one table only.
--
-- * member_projects: a member's projects by the project's (updated_at DESC, id DESC). With
--   production's tables the MEMBER branch of the projects page must read every membership
--   of the viewer and sort them; here it walks one index range and stops after a page.
-- * published_outputs: one row per published output (its generation is completed) with its
--   project, session privacy, file type and the two ordering keys. The gallery (outputs by
--   created_at DESC, id DESC) and the card's thumbnail (generation.created_at DESC,
--   output.created_at DESC, output.id DESC) and last activity otherwise read every output
--   of every visible session of the project; here they are index ranges per privacy value
--   (and file type).
--
-- Both are kept exact by triggers in the transaction of each write, whoever writes
-- (this API or the existing application during a rollout). Concurrency: a trigger that
-- copies a value from another row first locks that value against change, and every write
-- that changes such a value holds the matching lock while its own trigger rewrites the
-- copies. The two therefore serialise, and whichever runs second reads the other's
-- committed result (each trigger statement takes a fresh snapshot under READ COMMITTED):
-- * projects.updated_at: FOR SHARE on the project row (its update holds the row lock);
-- * generations.status, session_id, created_at: FOR SHARE on the generation row;
-- * sessions.project_id, is_private: a transaction-scoped advisory lock on the session,
--   shared by writers of published_outputs rows, exclusive for the session's own trigger.
--   (A row lock on the session would be taken after the generation's, and a session
--   deleted with its generations locks them the other way round: a deadlock.)
-- Heartbeat updates of generations.parameters fire nothing.
--
-- Created empty with their indexes (cheap: nothing to lock for long); 0008 backfills them
-- in batches.
-- depends: 0006_generations_index

CREATE TABLE member_projects (
    project_id uuid NOT NULL,
    user_id uuid NOT NULL,
    updated_at timestamp(3) NOT NULL,
    CONSTRAINT member_projects_pkey PRIMARY KEY (project_id, user_id)
);
CREATE INDEX member_projects_user_updated_idx
    ON member_projects (user_id, updated_at DESC, project_id DESC);

CREATE TABLE published_outputs (
    output_id uuid NOT NULL,
    project_id uuid NOT NULL,
    session_id uuid NOT NULL,
    is_private boolean NOT NULL,
    file_type text NOT NULL,
    generation_created_at timestamp(3) NOT NULL,
    created_at timestamp(3) NOT NULL,
    CONSTRAINT published_outputs_pkey PRIMARY KEY (output_id),
    CONSTRAINT published_outputs_output_id_fkey FOREIGN KEY (output_id)
        REFERENCES outputs (id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX published_outputs_gallery_idx
    ON published_outputs (project_id, is_private, file_type, created_at DESC, output_id DESC);
CREATE INDEX published_outputs_thumbnail_idx
    ON published_outputs (project_id, is_private, generation_created_at DESC, created_at DESC,
                          output_id DESC)
    WHERE file_type = 'image';
CREATE INDEX published_outputs_session_idx ON published_outputs (session_id);

-- member_projects ------------------------------------------------------------------------

CREATE FUNCTION vesper_member_projects_on_member()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        DELETE FROM member_projects
        WHERE project_id = OLD.project_id AND user_id = OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO member_projects (project_id, user_id, updated_at)
        SELECT p.id, NEW.user_id, p.updated_at
        FROM projects p
        WHERE p.id = NEW.project_id
        FOR SHARE
        ON CONFLICT (project_id, user_id) DO UPDATE SET updated_at = EXCLUDED.updated_at;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER member_projects_sync
AFTER INSERT OR DELETE OR UPDATE OF project_id, user_id ON project_members
FOR EACH ROW EXECUTE FUNCTION vesper_member_projects_on_member();

CREATE FUNCTION vesper_member_projects_on_project()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE member_projects SET updated_at = NEW.updated_at WHERE project_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER member_projects_sync
AFTER UPDATE OF updated_at ON projects
FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at)
EXECUTE FUNCTION vesper_member_projects_on_project();

-- published_outputs ----------------------------------------------------------------------

-- The advisory lock key of a session's published_outputs rows.
CREATE FUNCTION vesper_session_lock_key(session uuid)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT hashtextextended('vesper.session:' || session::text, 0)
$$;

-- Rewrites the rows of `generation`'s outputs (all of them, or only `output`):
-- present exactly when the generation is completed. The caller holds the generation's row
-- lock (it updates the row) or FOR SHARE on it; the session's privacy is held here.
CREATE FUNCTION vesper_publish(generation uuid, output uuid)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(vesper_session_lock_key(g.session_id))
    FROM generations g
    WHERE g.id = generation;

    DELETE FROM published_outputs po
    USING outputs o
    WHERE po.output_id = o.id AND o.generation_id = generation
      AND (output IS NULL OR o.id = output);

    INSERT INTO published_outputs (output_id, project_id, session_id, is_private, file_type,
                                   generation_created_at, created_at)
    SELECT o.id, s.project_id, s.id, s.is_private, o.file_type, g.created_at, o.created_at
    FROM generations g
    JOIN sessions s ON s.id = g.session_id
    JOIN outputs o ON o.generation_id = g.id
    WHERE g.id = generation AND g.status = 'completed' AND (output IS NULL OR o.id = output)
    FOR KEY SHARE OF o  -- an output being deleted concurrently is waited for, then skipped
    ON CONFLICT (output_id) DO UPDATE
    SET project_id = EXCLUDED.project_id, session_id = EXCLUDED.session_id,
        is_private = EXCLUDED.is_private, file_type = EXCLUDED.file_type,
        generation_created_at = EXCLUDED.generation_created_at,
        created_at = EXCLUDED.created_at;
END
$$;

CREATE FUNCTION vesper_published_on_output()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
        RETURN NULL;  -- an id change: the foreign key's ON UPDATE CASCADE moves the row
    END IF;
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM published_outputs WHERE output_id = OLD.id;
    END IF;
    -- FOR SHARE even when the generation is not completed: a concurrent completion then
    -- either waits for this insert (and publishes it) or finishes first (and this
    -- statement's successors see it completed).
    PERFORM 1 FROM generations WHERE id = NEW.generation_id FOR SHARE;
    PERFORM vesper_publish(NEW.generation_id, NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER published_outputs_sync
AFTER INSERT OR UPDATE OF generation_id, file_type, created_at ON outputs
FOR EACH ROW EXECUTE FUNCTION vesper_published_on_output();

CREATE FUNCTION vesper_published_on_generation()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM vesper_publish(NEW.id, NULL);
    RETURN NULL;
END
$$;

CREATE TRIGGER published_outputs_sync
AFTER UPDATE OF status, session_id, created_at ON generations
FOR EACH ROW
WHEN ((OLD.status = 'completed') IS DISTINCT FROM (NEW.status = 'completed')
      OR (NEW.status = 'completed' AND (OLD.session_id, OLD.created_at)
                                        IS DISTINCT FROM (NEW.session_id, NEW.created_at)))
EXECUTE FUNCTION vesper_published_on_generation();

CREATE FUNCTION vesper_published_on_session()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(vesper_session_lock_key(OLD.id));
    UPDATE published_outputs
    SET project_id = NEW.project_id, is_private = NEW.is_private, session_id = NEW.id
    WHERE session_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER published_outputs_sync
AFTER UPDATE OF id, project_id, is_private ON sessions
FOR EACH ROW
WHEN ((OLD.id, OLD.project_id, OLD.is_private) IS DISTINCT FROM
      (NEW.id, NEW.project_id, NEW.is_private))
EXECUTE FUNCTION vesper_published_on_session();
