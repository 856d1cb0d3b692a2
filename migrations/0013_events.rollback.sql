-- Undo 0013: no more events.

DROP TRIGGER vesper_events_on_update ON projects;
DROP TRIGGER vesper_events_on_update ON sessions;
DROP TRIGGER vesper_events_on_insert ON sessions;
DROP TRIGGER vesper_events_on_insert ON outputs;
DROP TRIGGER vesper_events_on_update ON generations;
DROP TRIGGER vesper_events_on_insert ON generations;
DROP FUNCTION vesper_events_on_projects();
DROP FUNCTION vesper_events_on_sessions();
DROP FUNCTION vesper_events_on_outputs();
DROP FUNCTION vesper_events_on_generations();
