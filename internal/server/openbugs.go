package server

import (
	"context"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/rings"
)

// openBugs reads what the zero-bug-bounce criterion of a promotion judges:
// the service's open work items of the counted types; nothing when the
// service configures no such criterion.
func (s *Server) openBugs(ctx context.Context, cfg rings.Config) ([]delivery.WorkItem, error) {
	if cfg.OpenBugs == nil {
		return nil, nil
	}
	return s.DB.OpenWorkItems(ctx, cfg.Service, cfg.OpenBugs.Types())
}
