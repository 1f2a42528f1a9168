package rings

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// PromotionRequest is the body of POST /api/v1/promotions. With DryRun the
// server only decides; otherwise it also records the promotion when allowed.
type PromotionRequest struct {
	Service string `json:"service"`
	SHA     string `json:"sha"`
	To      string `json:"to"`
	DryRun  bool   `json:"dry_run"`
	Fix     bool   `json:"fix,omitempty"`
	// FixReason says what made the client call it a fix (--fix, a branch,
	// a label), shown in the decision.
	FixReason string `json:"fix_reason,omitempty"`
	// FixLabels are the release policy's fix_labels: when Fix is false,
	// the server marks the commit a fix if a stored pull request of it
	// carries a matching label.
	FixLabels []string `json:"fix_labels,omitempty"`
}

// Validate checks the required fields.
func (r PromotionRequest) Validate() error {
	switch {
	case r.Service == "":
		return delivery.FieldError("service", "is required")
	case r.SHA == "":
		return delivery.FieldError("sha", "is required")
	case r.To == "":
		return delivery.FieldError("to", "is required")
	}
	return nil
}

// PromotionResponse is the answer to POST /api/v1/promotions: the decision
// with every condition, and whether it was only a dry run.
type PromotionResponse struct {
	Decision
	DryRun bool `json:"dry_run"`
}

// Ring states of a commit, as the position API reports them.
const (
	StateNotDeployed = "not_deployed" // never deployed to the ring
	StateSoaking     = "soaking"      // running, soak time not yet over
	StateSoaked      = "soaked"       // running for at least the soak time
	StateFailed      = "failed"       // its latest deployment there failed or was rolled back
)

// RingPosition is a commit's state in one ring. DeployedAt is when its
// current successful run there began (nil when not running).
type RingPosition struct {
	Ring       string     `json:"ring"`
	Production bool       `json:"production"`
	State      string     `json:"state"`
	DeployedAt *time.Time `json:"deployed_at,omitempty"`
	SoakUntil  *time.Time `json:"soak_until,omitempty"`
}

// Position is a commit's position across a service's rings, the answer of
// the API that shows how far a commit has rolled out.
type Position struct {
	Service string         `json:"service"`
	SHA     string         `json:"sha"`
	Rings   []RingPosition `json:"rings"`
}

// Locate computes a commit's position from its deployments.
func Locate(c Config, sha string, deps []delivery.Deployment, now time.Time) Position {
	p := Position{Service: c.Service, SHA: sha}
	var mine []delivery.Deployment
	for _, d := range deps {
		if d.SHA == sha && (c.Service == "" || d.Service == c.Service) {
			mine = append(mine, d)
		}
	}
	for _, r := range c.Rings {
		rp := RingPosition{Ring: r.Name, Production: r.Production, State: StateNotDeployed}
		since, ok := runningSince(c, mine, r.Name)
		switch {
		case ok:
			until := since.Add(r.Soak)
			rp.DeployedAt, rp.SoakUntil = &since, &until
			rp.State = StateSoaking
			if !now.Before(until) {
				rp.State = StateSoaked
			}
		case deployedTo(c, mine, r.Name):
			rp.State = StateFailed
		}
		p.Rings = append(p.Rings, rp)
	}
	return p
}

func deployedTo(c Config, deps []delivery.Deployment, ring string) bool {
	for _, d := range deps {
		if c.ringOf(d) == ring && d.Status.Terminal() {
			return true
		}
	}
	return false
}
