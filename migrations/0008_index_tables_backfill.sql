-- Fills the index tables of 0007 from the base tables, online: batches of 10,000 rows in
-- primary-key order, each its own transaction (COMMIT inside DO needs a migration that is
-- not wrapped in one), so no lock or snapshot is held for long. The triggers of 0007 are
-- already keeping rows exact for every write since then; a batch locks what it copies
-- values from as they do (FOR SHARE on outputs and generations, the session's advisory
-- lock), so it cannot copy a value that a concurrent write is changing,
-- and ON CONFLICT DO NOTHING leaves alone a row a trigger has already written. Progress
-- goes out as notices (`vesper migrate` prints them) every 100,000 rows read.
-- depends: 0007_index_tables
-- transactional: false

DO $$
DECLARE
    low uuid := '00000000-0000-0000-0000-000000000000';
    high uuid;
    done bigint := 0;
BEGIN
    LOOP
        -- the batch's last id; null when what is left fits in one batch
        SELECT m.id INTO high
        FROM project_members m
        WHERE m.id > low
        ORDER BY m.id
        OFFSET 9999 LIMIT 1;
        INSERT INTO member_projects (project_id, user_id, updated_at)
        SELECT p.id, m.user_id, p.updated_at
        FROM project_members m
        JOIN projects p ON p.id = m.project_id
        WHERE m.id > low AND (m.id <= high OR high IS NULL)
        FOR SHARE OF m, p
        ON CONFLICT (project_id, user_id) DO NOTHING;
        COMMIT;
        EXIT WHEN high IS NULL;
        low := high;
        done := done + 10000;
        IF done % 100000 = 0 THEN
            RAISE NOTICE 'progress: member_projects: % memberships read', done;
        END IF;
    END LOOP;
    RAISE NOTICE 'progress: member_projects: filled';
END
$$;

DO $$
DECLARE
    low uuid := '00000000-0000-0000-0000-000000000000';
    high uuid;
    done bigint := 0;
    total bigint := (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class c
                     WHERE c.oid = 'outputs'::regclass);  -- the planner's estimate
BEGIN
    LOOP
        -- the batch's last id; null when what is left fits in one batch
        SELECT o.id INTO high
        FROM outputs o
        WHERE o.id > low
        ORDER BY o.id
        OFFSET 9999 LIMIT 1;
        INSERT INTO published_outputs (output_id, project_id, session_id, is_private,
                                       file_type, generation_created_at, created_at)
        SELECT o.id, s.project_id, s.id, s.is_private, o.file_type, g.created_at, o.created_at
        FROM outputs o
        JOIN generations g ON g.id = o.generation_id
        JOIN sessions s ON s.id = g.session_id
        CROSS JOIN LATERAL pg_advisory_xact_lock_shared(vesper_session_lock_key(s.id)) l
        WHERE o.id > low AND (o.id <= high OR high IS NULL) AND g.status = 'completed'
        FOR SHARE OF o, g
        ON CONFLICT (output_id) DO NOTHING;
        COMMIT;
        EXIT WHEN high IS NULL;
        low := high;
        done := done + 10000;
        IF done % 100000 = 0 THEN
            RAISE NOTICE 'progress: published_outputs: % of about % outputs read', done, total;
        END IF;
    END LOOP;
    RAISE NOTICE 'progress: published_outputs: filled';
END
$$;

ANALYZE member_projects;
ANALYZE published_outputs;
