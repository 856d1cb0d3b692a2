-- A project's card figures for a viewer, as one function: the project_stats row's owner
-- columns for the owner, everyone else's columns otherwise, and for a project the backfill
-- has not reached yet (no row) the figures computed live by the maintenance functions of
-- 0009. It is what stored_stats_by_projects answered with its own CASE expressions; as a
-- function the projects page reads the figures of the cards it keeps in its own statement
-- (db/queries/projects.sql), with the same answer. A plain SQL function, inlined by the
-- planner where it is called.
-- depends: 0013_events

CREATE FUNCTION vesper_card_figures(project uuid, viewer_role text)
RETURNS TABLE (session_count integer, thumbnail_url text, last_activity_at timestamp(3))
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN st.project_id IS NULL
                THEN vesper_stats_session_count(project, vesper_session_privacies(viewer_role))
                WHEN viewer_role IS NOT DISTINCT FROM 'OWNER' THEN st.owner_session_count
                ELSE st.public_session_count END,
           CASE WHEN st.project_id IS NULL
                THEN (SELECT t.url
                      FROM vesper_stats_thumbnail(project, vesper_session_privacies(viewer_role)) t)
                WHEN viewer_role IS NOT DISTINCT FROM 'OWNER' THEN st.owner_thumbnail_url
                ELSE st.public_thumbnail_url END,
           CASE WHEN st.project_id IS NULL
                THEN vesper_stats_last_activity(project, vesper_session_privacies(viewer_role))
                WHEN viewer_role IS NOT DISTINCT FROM 'OWNER' THEN st.owner_last_activity_at
                ELSE st.public_last_activity_at END
    FROM (SELECT) AS one
    LEFT JOIN project_stats st ON st.project_id = project
$$;
