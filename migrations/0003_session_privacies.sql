-- The privacy values of the sessions a viewer sees, as an array to walk: {false, true} for
-- the owner, {false} for anyone else. The same rule as vesper_sees_session (0002), in the
-- form an index on (..., is_private, <order>) can use: a page reads one ordered range per
-- value and merges them, where a filter on vesper_sees_session would read every private
-- session's rows only to drop them.
-- depends: 0002_visibility

CREATE FUNCTION vesper_session_privacies(viewer_role text)
RETURNS boolean[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN viewer_role IS NOT DISTINCT FROM 'OWNER' THEN ARRAY[false, true]
                ELSE ARRAY[false] END
$$;
