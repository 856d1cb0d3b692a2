-- Events for subscriptions (API.md "Subscriptions"): statement triggers NOTIFY channel
-- `vesper_events` with the ids of what changed, so writes made by any application publish,
-- in commit order and only once committed (PostgreSQL delivers a transaction's
-- notifications at COMMIT, none on ROLLBACK).
--
-- A payload is ids only, separated by spaces (a listener checks visibility and reads the
-- rows itself; ids keep each payload far below NOTIFY's 8,000-byte limit):
--   g <project> <session> <generation>   a generation created, its status changed, or an
--                                         output added to it
--   s <project> <session>                 a session created or changed (privacy included)
--   p <project>                           a project changed (name, share toggle, members:
--                                         the writes move projects.updated_at)
-- PostgreSQL folds identical payloads within a transaction, so a generation that gains
-- four outputs in one write is one event. Statement triggers with transition tables cost
-- one trigger call per statement, not per row. Deletions publish nothing: what is gone
-- cannot be shown, and the rows no longer say who could have seen them.
-- depends: 0012_project_access_probe

CREATE FUNCTION vesper_events_on_generations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('vesper_events', concat_ws(' ', 'g', s.project_id, n.session_id, n.id))
        FROM new_rows n JOIN sessions s ON s.id = n.session_id;
    ELSE
        PERFORM pg_notify('vesper_events', concat_ws(' ', 'g', s.project_id, n.session_id, n.id))
        FROM new_rows n
        JOIN old_rows o ON o.id = n.id
        JOIN sessions s ON s.id = n.session_id
        WHERE (n.status, n.session_id) IS DISTINCT FROM (o.status, o.session_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER vesper_events_on_insert
AFTER INSERT ON generations
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION vesper_events_on_generations();

CREATE TRIGGER vesper_events_on_update
AFTER UPDATE ON generations
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION vesper_events_on_generations();

CREATE FUNCTION vesper_events_on_outputs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vesper_events', concat_ws(' ', 'g', s.project_id, g.session_id, g.id))
    FROM (SELECT DISTINCT generation_id FROM new_rows) n
    JOIN generations g ON g.id = n.generation_id
    JOIN sessions s ON s.id = g.session_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER vesper_events_on_insert
AFTER INSERT ON outputs
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION vesper_events_on_outputs();

CREATE FUNCTION vesper_events_on_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vesper_events', concat_ws(' ', 's', n.project_id, n.id))
    FROM new_rows n;
    RETURN NULL;
END
$$;

CREATE TRIGGER vesper_events_on_insert
AFTER INSERT ON sessions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION vesper_events_on_sessions();

CREATE TRIGGER vesper_events_on_update
AFTER UPDATE ON sessions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION vesper_events_on_sessions();

CREATE FUNCTION vesper_events_on_projects() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vesper_events', concat_ws(' ', 'p', n.id))
    FROM new_rows n;
    RETURN NULL;
END
$$;

CREATE TRIGGER vesper_events_on_update
AFTER UPDATE ON projects
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION vesper_events_on_projects();
