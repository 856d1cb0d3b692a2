-- Undo 0018: every settling session's rows rewritten at once (as 0007 did in the user's
-- transaction), the settle jobs still waiting dropped, and the functions of 0007, 0009 and
-- 0011 back.

UPDATE published_outputs po
SET project_id = s.project_id, is_private = s.is_private
FROM vesper_settle_walks w
JOIN sessions s ON s.id = w.session_id
WHERE po.session_id = s.id
  AND (po.project_id, po.is_private) IS DISTINCT FROM (s.project_id, s.is_private);

DELETE FROM pgqueuer WHERE entrypoint = 'settle_session';

ALTER TRIGGER index_tables_sync ON sessions RENAME TO published_outputs_sync;

CREATE OR REPLACE FUNCTION vesper_published_on_session()
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

CREATE OR REPLACE FUNCTION vesper_stats_thumbnail(project uuid, privacies boolean[])
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

CREATE OR REPLACE FUNCTION vesper_stats_last_activity(project uuid, privacies boolean[])
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

DROP FUNCTION vesper_gallery_settling_backward(uuid, boolean[], text[], timestamp, uuid,
                                               timestamp, uuid, integer);
DROP FUNCTION vesper_gallery_settling_forward(uuid, boolean[], text[], timestamp, uuid,
                                              timestamp, uuid, integer);
DROP FUNCTION vesper_settle_finish(uuid, bigint);
DROP FUNCTION vesper_settle_step(uuid, integer, bigint, interval);
DROP FUNCTION vesper_inline_rows();
DROP TABLE vesper_settle_walks;
DROP TABLE vesper_settling_sessions;
