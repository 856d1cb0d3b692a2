-- Undo 0009: the read model, its triggers and functions.

DROP TRIGGER project_stats_sync ON outputs;
DROP TRIGGER project_stats_sync ON published_outputs;
DROP TRIGGER project_stats_sync ON sessions;
DROP TRIGGER project_stats_sync ON projects;
DROP FUNCTION vesper_stats_on_output_url();
DROP FUNCTION vesper_stats_on_row();
DROP FUNCTION vesper_stats_on_project_insert();
DROP FUNCTION vesper_stats_refresh(uuid[], boolean, boolean);
DROP FUNCTION vesper_stats_last_activity(uuid, boolean[]);
DROP FUNCTION vesper_stats_thumbnail(uuid, boolean[]);
DROP FUNCTION vesper_stats_session_count(uuid, boolean[]);
DROP TABLE project_stats;
