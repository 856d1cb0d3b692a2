-- Undo 0010: empty the read model (the triggers of 0009 go on writing rows for the
-- projects written to; applying 0010 again completes it).
-- transactional: false

TRUNCATE project_stats;
