-- The projects page (db/queries/projects.sql) walks each scope in (updated_at DESC, id DESC)
-- order and stops after a page: the owner's projects by owner, the shared ones through a
-- partial index. (Production's projects_updated_id_idx serves neither: it would read every
-- project newer than the page to find the viewer's.)
--
-- Built CONCURRENTLY, so writes to projects keep flowing during the build; that cannot run
-- inside a transaction (nor inside a DO block), so the guard below is a statement of its
-- own before the builds. For each index it looks at what already has the index's name:
-- * nothing: the index is built;
-- * a valid index that is exactly the one built here (pg_get_indexdef, against the
--   definition written in the guard): kept as it is, nothing rebuilt (CREATE ... IF NOT
--   EXISTS skips it);
-- * an INVALID index, the leftover of a failed concurrent build (this migration is then
--   unrecorded and runs again): renamed to <name>_leftover, which the next statement drops
--   CONCURRENTLY (ALTER INDEX ... RENAME locks the index only, never the table);
-- * anything else (a valid index with another definition, a relation that is not an
--   index, a valid index named <name>_leftover): the migration refuses, one line naming it,
--   and changes nothing. A valid index is never dropped by a migration that did not create
--   it.
-- Each guard's definitions are those of its CREATE INDEX statements in pg_get_indexdef's
-- words (tests/db/ops/test_index_guard.py runs every guard over the indexes it built).
-- depends: 0003_session_privacies
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
            ('projects_owner_updated_idx', 'projects',
             'btree (owner_id, updated_at DESC, id DESC)'),
            ('projects_shared_updated_idx', 'projects',
             'btree (updated_at DESC, id DESC) WHERE is_shared')
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

DROP INDEX CONCURRENTLY IF EXISTS projects_owner_updated_idx_leftover;
CREATE INDEX CONCURRENTLY IF NOT EXISTS projects_owner_updated_idx
    ON projects (owner_id, updated_at DESC, id DESC);

DROP INDEX CONCURRENTLY IF EXISTS projects_shared_updated_idx_leftover;
CREATE INDEX CONCURRENTLY IF NOT EXISTS projects_shared_updated_idx
    ON projects (updated_at DESC, id DESC) WHERE is_shared;
