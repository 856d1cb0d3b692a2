-- Events (migration 0013): who among a subscription's viewers sees what an event is about,
-- by the same visibility functions as every read, at the time of the event.

-- name: session_event_viewers
-- The viewers among $1 who see session $2, each with their role in its project (null: they
-- see it only because it is shared).
SELECT v.id AS viewer, a.viewer_role
FROM unnest($1::uuid[]) AS v (id)
JOIN sessions s ON s.id = $2::uuid
CROSS JOIN vesper_project_access(v.id, s.project_id) a
WHERE vesper_sees_session(a.viewer_role, s.is_private)

-- name: project_event_viewers
-- The viewers among $1 who see project $2, each with their role in it.
SELECT v.id AS viewer, a.viewer_role
FROM unnest($1::uuid[]) AS v (id)
CROSS JOIN vesper_project_access(v.id, $2::uuid) a
