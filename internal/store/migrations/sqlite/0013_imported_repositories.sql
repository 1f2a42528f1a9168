-- Commits written by an import (stride import git) have no events row: the
-- changes table's key already tells a re-imported commit from a new one.
-- The repositories an import wrote commits of are kept here instead, so
-- reprocessing another source that also reported commits of one keeps
-- them (as an events row of the import would have) rather than rebuilding
-- them from that source's reports alone. Commits imported before keep
-- their events rows, which say the same.
CREATE TABLE imported_repositories (
    repository TEXT PRIMARY KEY
);
