-- Undo 0002: the visibility functions.

DROP FUNCTION vesper_sees_session(text, boolean);
DROP FUNCTION vesper_project_access(uuid, uuid);
DROP FUNCTION vesper_member_role(text);
