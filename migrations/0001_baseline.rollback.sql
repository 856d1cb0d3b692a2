-- Undo the baseline: tables in dependency order (children first), then the enum.
-- No CASCADE: if something else (an out-of-scope table) still references these tables,
-- the rollback fails instead of silently dropping foreign keys that are not ours.

DROP TABLE outputs;
DROP TABLE generation_jobs;
DROP TABLE generations;
DROP TABLE sessions;
DROP TABLE project_members;
DROP TABLE projects;
DROP TABLE profiles;
DROP TYPE "UserRole";
