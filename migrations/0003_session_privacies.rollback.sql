-- Undo 0003.

DROP FUNCTION vesper_session_privacies(text);
