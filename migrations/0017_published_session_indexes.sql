-- Per-session orders of published_outputs, for the reads and the settling job of 0018: a
-- project whose sessions' copies in published_outputs are being rewritten (a big session
-- made private or public, moved or deleted) reads its gallery, thumbnail and last activity
-- session by session from these, with the sessions table's privacy and project, instead of
-- the project-wide ranges of 0007 (README "Big writes"). The gallery order per session and
-- file type replaces 0007's (session_id) index, which it covers as its prefix; the
-- thumbnail order per session is the card's. Built CONCURRENTLY; see 0004 for the guard
-- before the builds (an existing index of the same name: kept, refused, or a leftover
-- replaced).
-- depends: 0016_project_deletions
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
            ('published_outputs_session_gallery_idx', 'published_outputs',
             'btree (session_id, file_type, created_at DESC, output_id DESC)'),
            ('published_outputs_session_thumbnail_idx', 'published_outputs',
             'btree (session_id, generation_created_at DESC, created_at DESC, output_id DESC)'
             ' WHERE (file_type = ''image''::text)')
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

DROP INDEX CONCURRENTLY IF EXISTS published_outputs_session_gallery_idx_leftover;
CREATE INDEX CONCURRENTLY IF NOT EXISTS published_outputs_session_gallery_idx
    ON published_outputs (session_id, file_type, created_at DESC, output_id DESC);

DROP INDEX CONCURRENTLY IF EXISTS published_outputs_session_thumbnail_idx_leftover;
CREATE INDEX CONCURRENTLY IF NOT EXISTS published_outputs_session_thumbnail_idx
    ON published_outputs (session_id, generation_created_at DESC, created_at DESC,
                          output_id DESC)
    WHERE file_type = 'image';

DROP INDEX CONCURRENTLY IF EXISTS published_outputs_session_idx;
