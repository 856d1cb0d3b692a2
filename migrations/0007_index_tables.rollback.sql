-- Undo 0007: the triggers, their functions and the two index tables.

DROP TRIGGER published_outputs_sync ON sessions;
DROP TRIGGER published_outputs_sync ON generations;
DROP TRIGGER published_outputs_sync ON outputs;
DROP TRIGGER member_projects_sync ON projects;
DROP TRIGGER member_projects_sync ON project_members;
DROP FUNCTION vesper_published_on_session();
DROP FUNCTION vesper_published_on_generation();
DROP FUNCTION vesper_published_on_output();
DROP FUNCTION vesper_publish(uuid, uuid);
DROP FUNCTION vesper_session_lock_key(uuid);
DROP FUNCTION vesper_member_projects_on_project();
DROP FUNCTION vesper_member_projects_on_member();
DROP TABLE published_outputs;
DROP TABLE member_projects;
