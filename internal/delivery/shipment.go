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
