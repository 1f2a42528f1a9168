package rings

import (
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// CondApproval is the sign-off condition: a person's vote on moving the
// commit into the target ring.
const CondApproval = "approval"

// Votes of a sign-off.
const (
	VoteYes = "yes"
	VoteNo  = "no"
)

// MaxApprovalNote bounds a vote's note: a sentence or a link, not a report.
const MaxApprovalNote = 1000

// Approval is one sign-off vote on a commit for a ring: who voted, yes or
// no, why, and when (the store's clock, set by the write path).
type Approval struct {
	ID      string    `json:"id,omitempty"`
	Service string    `json:"service"`
	SHA     string    `json:"sha"`
	Ring    string    `json:"ring"`
	By      string    `json:"by"`
	Vote    string    `json:"vote"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`
}

// Validate checks a vote as a client sends it: every field but the note
// and the time is required, and the vote is yes or no.
func (a Approval) Validate() error {
	switch {
	case strings.TrimSpace(a.Service) == "":
		return delivery.FieldError("service", "is required")
	case strings.TrimSpace(a.SHA) == "":
		return delivery.FieldError("sha", "is required")
	case strings.TrimSpace(a.Ring) == "":
		return delivery.FieldError("ring", "is required")
	case strings.TrimSpace(a.By) == "":
		return delivery.FieldError("by", "is required: the name of the person who signs off")
	case a.Vote != VoteYes && a.Vote != VoteNo:
		return delivery.FieldError("vote", "%q: want yes or no", a.Vote)
	case len(a.Note) > MaxApprovalNote:
		return delivery.FieldError("note", "is longer than %d bytes", MaxApprovalNote)
	}
	return nil
}

// LatestVote returns the vote that decides a commit's sign-off for a ring:
// the last received of those given (in arrival order) for that ring.
func LatestVote(votes []Approval, sha, ring string) (Approval, bool) {
	var latest Approval
	found := false
	for _, v := range votes {
		if v.SHA == sha && v.Ring == ring {
			latest, found = v, true
		}
	}
	return latest, found
}

// approvalCondition judges the sign-off of the target ring. A ring that
// requires approval needs a latest vote of yes; in any ring a latest vote
// of no blocks, since a person said stop, until a later yes. A ring that
// requires none and has no vote gets no condition, so decisions of services
// that do not use sign-off read as before.
func approvalCondition(f Facts, target int) (Condition, bool) {
	if target < 0 {
		return Condition{}, false
	}
	ring := f.Config.Rings[target]
	v, voted := LatestVote(f.Approvals, f.SHA, ring.Name)
	switch {
	case !voted && !ring.Approval:
		return Condition{}, false
	case !voted:
		return Condition{Name: CondApproval, Status: Fail, Reason: fmt.Sprintf(
			"%s needs a sign-off: stride approve --service %s --sha %s --ring %s --by NAME --vote yes",
			ring.Name, f.Config.Service, f.SHA, ring.Name)}, true
	case v.Vote == VoteNo:
		return Condition{Name: CondApproval, Status: Fail, Reason: fmt.Sprintf(
			"%s voted no for %s at %s%s; a later yes lifts it", v.By, ring.Name, v.At.UTC().Format(time.RFC3339), note(v.Note))}, true
	default:
		return Condition{Name: CondApproval, Status: Pass, Reason: fmt.Sprintf(
			"%s voted yes for %s at %s%s", v.By, ring.Name, v.At.UTC().Format(time.RFC3339), note(v.Note))}, true
	}
}

func note(n string) string {
	if n == "" {
		return ""
	}
	return ": " + n
}
