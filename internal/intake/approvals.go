package intake

import (
	"context"

	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
)

// Approval validates a sign-off vote and records it with the name of the
// token that sent it. When it was cast is the store's clock, whatever the
// caller says, so a vote cannot be placed before one already counted.
func (in *Intake) Approval(ctx context.Context, a rings.Approval, token string) (rings.Approval, error) {
	if err := a.Validate(); err != nil {
		return a, err
	}
	rec, err := in.db.RecordApproval(ctx, store.Approval{Service: a.Service, SHA: a.SHA, Ring: a.Ring,
		Voter: a.By, Vote: a.Vote, Note: a.Note, Token: token})
	if err != nil {
		return a, err
	}
	return ApprovalOf(rec), nil
}

// ApprovalOf is a stored vote as the domain and the API show it.
func ApprovalOf(a store.Approval) rings.Approval {
	return rings.Approval{ID: a.ID, Service: a.Service, SHA: a.SHA, Ring: a.Ring, By: a.Voter, Vote: a.Vote, Note: a.Note, At: a.VotedAt}
}
