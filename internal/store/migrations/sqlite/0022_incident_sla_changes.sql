-- How many times the facts the acknowledgement SLA reads (opened,
-- acknowledged and resolved times, severity, status) changed since the
-- breach-and-escalation job last judged an incident. Reports arrive in any
-- order: an incident settled, or marked breached, on the reports known then
-- is judged again on the merged facts, so its due time and breach end the
-- same whatever the order of arrival. The job subtracts what it read, so a
-- change made while it runs is judged on the next run.
ALTER TABLE incident_sla ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;
