-- Fills project_stats for the projects that existed before 0009 (backfill step), online:
-- 1,000 projects per transaction in id order (COMMIT inside DO needs a migration that is
-- not wrapped in one). Each goes through vesper_stats_refresh, which locks the row before
-- computing it, so a batch and a concurrent write to the same project serialise; rows the
-- triggers created meanwhile are simply recomputed. Progress goes out as notices
-- (`vesper migrate` prints them) every 10,000 projects.
-- depends: 0009_project_stats
-- transactional: false

DO $$
DECLARE
    low uuid := '00000000-0000-0000-0000-000000000000';
    batch uuid[];
    done bigint := 0;
    total bigint := (SELECT count(*) FROM projects);
BEGIN
    LOOP
        SELECT array_agg(b.id ORDER BY b.id) INTO batch
        FROM (SELECT p.id FROM projects p WHERE p.id > low ORDER BY p.id LIMIT 1000) b;
        EXIT WHEN batch IS NULL;
        PERFORM vesper_stats_refresh(batch, true, true);
        low := batch[array_upper(batch, 1)];
        COMMIT;
        done := done + array_length(batch, 1);
        IF done % 10000 = 0 THEN
            RAISE NOTICE 'progress: project_stats: % of % projects', done, total;
        END IF;
    END LOOP;
    RAISE NOTICE 'progress: project_stats: % projects filled', done;
END
$$;

ANALYZE project_stats;
