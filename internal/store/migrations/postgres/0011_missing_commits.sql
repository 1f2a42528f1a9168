-- The deployments whose own commit the last shipment refresh of their
-- service did not find among the changes Stride was told of: they ship
-- nothing, and the report names them with what to do. Replaced whole by
-- every refresh of the service, like the count in shipping_state.missing.
CREATE TABLE missing_commits (
    service       TEXT NOT NULL,
    environment   TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    repository    TEXT NOT NULL,
    sha           TEXT NOT NULL,
    -- The repositories the service is configured with, space separated,
    -- when the deployment named none of them and none holds the commit.
    configured    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (service, environment, deployment_id)
);

-- Recompute every service once, so the list is filled in.
UPDATE shipping_state SET dirty = dirty + 1;
