-- project_stats maintenance: one recomputation per project when the deferred triggers fire,
-- however many rows the transaction changed.
--
-- The triggers of 0009 are row triggers (constraint triggers cannot be statement
-- triggers), so a write that changes many published outputs at once — a session made
-- private or deleted, with 100k+ outputs — queued one recomputation per row, all run at
-- COMMIT. Measured on the small seed: making the largest session private took minutes at
-- COMMIT, and PostgreSQL's statement timeout does not cover the deferred triggers a COMMIT
-- runs. Every event of one firing runs after all of the transaction's changes (nothing they
-- do changes sessions or published_outputs), so the first recomputation of a project sees
-- the final state and the others are redundant: the trigger functions now remember, for
-- the rest of the firing, which projects (and which figures) they have recomputed.
--
-- A firing is identified by the transaction and the client statement that set it off
-- (COMMIT, or SET CONSTRAINTS ... IMMEDIATE). Two firings inside one client statement of
-- one transaction (SET CONSTRAINTS IMMEDIATE twice in one function, with writes between)
-- would recompute once only; nothing here does that, and `vesper stats repair` would
-- report it.
-- depends: 0010_project_stats_backfill

-- Recomputes the `figures` ('sessions' or 'outputs') of the projects among `projects`
-- that have not had them recomputed yet in this firing, and marks them.
CREATE FUNCTION vesper_stats_refresh_once(projects uuid[], figures text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    firing text := coalesce(pg_current_xact_id_if_assigned()::text, '') || '@'
                   || extract(epoch FROM statement_timestamp())::text;
    done text := coalesce(current_setting('vesper.stats_recomputed', true), '');
    todo uuid[];
BEGIN
    IF split_part(done, ' ', 1) <> firing THEN
        done := firing;
    END IF;
    SELECT array_agg(DISTINCT p) INTO todo
    FROM unnest(projects) AS p
    WHERE p IS NOT NULL AND position(figures || ':' || p::text IN done) = 0;
    IF todo IS NULL THEN
        RETURN;
    END IF;
    done := done || ' ' || (SELECT string_agg(figures || ':' || p::text, ' ')
                            FROM unnest(todo) AS p);
    PERFORM set_config('vesper.stats_recomputed', done, true);
    PERFORM vesper_stats_refresh(todo, figures = 'sessions', figures = 'outputs');
END
$$;

CREATE OR REPLACE FUNCTION vesper_stats_on_row()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM vesper_stats_refresh_once(
        CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.project_id]
                   WHEN 'DELETE' THEN ARRAY[OLD.project_id]
                   ELSE ARRAY[OLD.project_id, NEW.project_id] END,
        TG_ARGV[0]);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION vesper_stats_on_output_url()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM vesper_stats_refresh_once(
        ARRAY(SELECT po.project_id FROM published_outputs po WHERE po.output_id = NEW.id),
        'outputs');
    RETURN NULL;
END
$$;
