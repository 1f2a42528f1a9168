-- What sprint health and the open-bugs release criterion select work items
-- by, beside the JSON that keeps the rest (labels, assignee, sprints and the
-- changelog live there). services is the item's sorted services, each
-- between spaces (" api web "), so that one service is found with LIKE.
ALTER TABLE work_items ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN item_type TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN priority TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN services TEXT NOT NULL DEFAULT '';
-- Items stored before this migration carry no priority or services yet;
-- their category and type are read back from their JSON.
UPDATE work_items SET category = COALESCE(json_extract(data, '$.Category'), ''), item_type = COALESCE(json_extract(data, '$.Type'), '');
CREATE INDEX work_items_open ON work_items (category, item_type);
