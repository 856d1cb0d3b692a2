-- Undo 0011: the trigger functions of 0009 again (one recomputation per row).

CREATE OR REPLACE FUNCTION vesper_stats_on_output_url()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM vesper_stats_refresh(
        ARRAY(SELECT po.project_id FROM published_outputs po WHERE po.output_id = NEW.id),
        false, true);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION vesper_stats_on_row()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    projects uuid[];
BEGIN
    projects := CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.project_id]
                           WHEN 'DELETE' THEN ARRAY[OLD.project_id]
                           ELSE ARRAY[OLD.project_id, NEW.project_id] END;
    PERFORM vesper_stats_refresh(projects, TG_ARGV[0] = 'sessions', TG_ARGV[0] = 'outputs');
    RETURN NULL;
END
$$;

DROP FUNCTION vesper_stats_refresh_once(uuid[], text);
