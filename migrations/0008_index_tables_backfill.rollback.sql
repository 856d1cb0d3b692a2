-- Undo 0008: empty the index tables (the triggers of 0007 go on filling them from new
-- writes; applying 0008 again completes them).
-- transactional: false

TRUNCATE member_projects, published_outputs;
