package delivery

import "time"

// Shipment is one change shipped by one deployment: the assignment
// ShipChanges makes (each change shipped once, by the first successful
// production deployment that contains it), as the store keeps it.
type Shipment struct {
	Deployment DeploymentKey
	Repository string
	SHA        string
	CommitTime time.Time
	// Incident is set when the change is linked to an incident (a fix),
	// which makes the deployment unplanned (rework).
	Incident string
}

// ShippedTimes is what lead time needs of the changes one deployment
// shipped: their commit times, without naming the changes. A report over a
// long history reads one of these per deployment rather than one Shipment
// per change, so 200,000 changes are 1.6 MB of integers instead of 24 MB of
// structs the garbage collector walks. It holds no change linked to an
// incident: those make a deployment unplanned, and are read as Shipments.
type ShippedTimes struct {
	Deployment DeploymentKey
	// CommitMicros are the changes' commit times in Unix microseconds,
	// the precision Stride stores times in.
	CommitMicros []int64
}
