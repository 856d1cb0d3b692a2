-- Sessions visible per project (the roadmap's "sessions visibility filter"): a project's
-- sessions page walks (updated_at DESC, id DESC) within one privacy value, so a viewer who
-- sees public sessions only reads exactly a page, and the owner merges the two privacy
-- values (db/queries/sessions.sql). Its (project_id, is_private) prefix also answers the
-- card's session count from the index alone. It carries every column a sessions page
-- returns: production's (project_id, is_private) index + a sort looks cheaper to the
-- planner whenever it guesses a project holds few sessions (it plans for the average
-- project, not the one asked), and reads every session of a large project; an index-only
-- walk is cheaper in every case. Built CONCURRENTLY; see 0004 for the guard before the
-- build (an existing index of the same name: kept, refused, or a leftover replaced).
-- depends: 0004_projects_indexes
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
            ('sessions_project_visible_updated_idx', 'sessions',
             'btree (project_id, is_private, updated_at DESC, id DESC)'
             ' INCLUDE (name, type, created_at)')
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

DROP INDEX CONCURRENTLY IF EXISTS sessions_project_visible_updated_idx_leftover;
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_project_visible_updated_idx
    ON sessions (project_id, is_private, updated_at DESC, id DESC)
    INCLUDE (name, type, created_at);
