-- Undo 0014.

DROP FUNCTION vesper_card_figures(uuid, text);
