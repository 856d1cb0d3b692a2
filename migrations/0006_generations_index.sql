-- Generations per session and status, newest first (the roadmap's "latest completed per
-- session"): a session's generations page walks (created_at DESC, id DESC) within each
-- status it lists and merges them (db/queries/generations.sql), so a page reads a page per
-- status, never the session's whole history; a status filter reads one range. Built
-- CONCURRENTLY (generations is write-hot); see 0004 for the guard before the build (an
-- existing index of the same name: kept, refused, or a leftover replaced).
-- depends: 0005_sessions_index
-- transactional: false

DO $$
DECLARE
    wanted record;
    existing record;
BEGIN
    FOR wanted IN
        SELECT w.name, w.name || '_leftover' AS leftover, t.relnamespace,
               format('CREATE INDEX %I ON %I.%I USING %s',
                      w.name, n.nspname, t.relname, w.method) AS definition
        FROM (VALUES
            ('generations_session_status_created_idx', 'generations',
             'btree (session_id, status, created_at DESC, id DESC)')
        ) AS w (name, on_table, method)
        JOIN pg_class t ON t.oid = w.on_table::regclass
        JOIN pg_namespace n ON n.oid = t.relnamespace
    LOOP
        -- The DROP ... IF EXISTS of the leftover name resolves it through the search_path.
        IF (SELECT x.indisvalid FROM pg_index x
            WHERE x.indexrelid = to_regclass(quote_ident(wanted.leftover))) THEN
            RAISE EXCEPTION 'index % is valid, and this migration drops an index of that '
                'name as a failed build''s leftover; refusing to drop it: rename or drop it '
                'yourself, then migrate again', wanted.leftover
                USING ERRCODE = 'duplicate_table';
        END IF;
        -- What CREATE INDEX ... IF NOT EXISTS looks at: the name in the table's schema.
        SELECT c.oid, x.indisvalid AS valid,
               coalesce(pg_get_indexdef(x.indexrelid), 'not an index') AS definition
        INTO existing
        FROM pg_class c
        LEFT JOIN pg_index x ON x.indexrelid = c.oid
        WHERE c.relnamespace = wanted.relnamespace AND c.relname = wanted.name;
        IF NOT FOUND OR existing.valid AND existing.definition = wanted.definition THEN
            CONTINUE;  -- built below, or built already (kept: IF NOT EXISTS skips it)
        ELSIF existing.valid IS FALSE THEN  -- a failed build's leftover: dropped below
            EXECUTE format('ALTER INDEX %s RENAME TO %I',
                           existing.oid::regclass, wanted.leftover);
        ELSE
            RAISE EXCEPTION '% already exists and is not the index this migration builds '
                'under that name (found: %; builds: %); refusing to replace it: rename or '
                'drop it yourself, then migrate again',
                wanted.name, existing.definition, wanted.definition
                USING ERRCODE = 'duplicate_table';
        END IF;
    END LOOP;
END
$$;

DROP INDEX CONCURRENTLY IF EXISTS generations_session_status_created_idx_leftover;
CREATE INDEX CONCURRENTLY IF NOT EXISTS generations_session_status_created_idx
    ON generations (session_id, status, created_at DESC, id DESC);
