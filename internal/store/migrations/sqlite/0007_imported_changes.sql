-- Commits written by an import (stride import git) have no events row: the
-- changes table's key already tells a re-imported commit from a new one.
-- imported marks them instead, so reprocessing another source that also
-- reported such a commit keeps it (as an events row of the import would
-- have) rather than rebuilding it from that source's reports alone.
-- Commits imported before keep their events rows, which say the same.
ALTER TABLE changes ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
