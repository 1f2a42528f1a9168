-- What a commit's reports proved of its history (delivery.Ancestry): ''
-- when parents holds its true parents, 'proven' when a push proved the
-- ancestors in proven_ancestors (space-separated, like parents) without
-- giving parents, 'unknown' when nothing is known. Rows written before keep
-- '' and their parents; `stride reprocess github` (or gitlab) derives the
-- pushed commits again under the new rule.
ALTER TABLE changes ADD COLUMN ancestry TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN proven_ancestors TEXT NOT NULL DEFAULT '';
-- The deployments (environment/id, one a line) whose commit's history is
-- unknown, so that they ship their own commit alone: the report warns of
-- them, as of shipping_state.missing. Filled by the next refresh.
ALTER TABLE shipping_state ADD COLUMN unknown_ancestry TEXT NOT NULL DEFAULT '';
-- The deployments (environment/id, one a line) of a commit Stride was
-- never told of, which ship nothing until it is: the report names them.
ALTER TABLE shipping_state ADD COLUMN unknown_commit TEXT NOT NULL DEFAULT '';
UPDATE shipping_state SET dirty = dirty + 1;
