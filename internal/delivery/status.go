package delivery

import (
	"maps"
	"slices"
)

// TerminalStatuses lists the statuses of a finished deployment (those
// Terminal reports true for) in rank order. The store builds its filters
// from it, so a new status is judged finished or not in one place.
func TerminalStatuses() []DeploymentStatus {
	all := slices.SortedFunc(maps.Keys(statusRank), func(a, b DeploymentStatus) int { return statusRank[a] - statusRank[b] })
	return slices.DeleteFunc(all, func(s DeploymentStatus) bool { return !s.Terminal() })
}
