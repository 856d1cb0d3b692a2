-- Sessions visible per project (the roadmap's "sessions visibility filter"): a project's
-- sessions page walks (updated_at DESC, id DESC) within one privacy value, so a viewer who
-- sees public sessions only reads exactly a page, and the owner merges the two privacy
-- values (db/queries/sessions.sql). Its (project_id, is_private) prefix also answers the
-- card's session count from the index alone. It carries every column a sessions page
-- returns: production's (project_id, is_private) index + a sort looks cheaper to the
-- planner whenever it guesses a project holds few sessions (it plans for the average
-- project, not the one asked), and reads every session of a large project; an index-only
-- walk is cheaper in every case. Built CONCURRENTLY; see 0004 for the leftover handling.
-- depends: 0004_projects_indexes
-- transactional: false

DROP INDEX CONCURRENTLY IF EXISTS sessions_project_visible_updated_idx;
CREATE INDEX CONCURRENTLY sessions_project_visible_updated_idx
    ON sessions (project_id, is_private, updated_at DESC, id DESC)
    INCLUDE (name, type, created_at);
