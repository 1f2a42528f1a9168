package delivery

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxBatch is the most events one write takes: a bound on the work and the
// memory of one transaction, whoever the writer is.
const MaxBatch = 5000

// KindSpec is what the domain declares about one kind of entity, once: the
// parts of its natural key and how two reports of it merge (its validation
// is Event.Validate's case for it). The store keys and merges its rows on
// these declarations, so adding a kind touches one entry here, its case in
// Validate, and one table entry in the store (store/kinds.go).
type KindSpec struct {
	// Key returns the natural key of the event's entity, in a fixed order.
	// It is called on events whose entity of this kind is set.
	Key func(e Event) []string
	// Merge combines two reports of the same entity into a new event (its
	// arguments are left as they were); the result does not depend on the
	// order they arrived in (see merge.go).
	Merge func(a, b Event) Event
}

// Kinds declares every kind of entity an event may carry.
var Kinds = map[Kind]KindSpec{
	KindChange: {
		Key: func(e Event) []string { return []string{e.Change.Repository, e.Change.SHA} },
		Merge: func(a, b Event) Event {
			m := MergeChange(*a.Change, *b.Change)
			a.Change = &m
			return a
		},
	},
	KindDeployment: {
		Key: func(e Event) []string {
			return []string{e.Deployment.Service, e.Deployment.Environment, e.Deployment.ID}
		},
		Merge: func(a, b Event) Event {
			m := MergeDeployment(*a.Deployment, *b.Deployment)
			a.Deployment = &m
			return a
		},
	},
	KindIncident: {
		Key: func(e Event) []string { return []string{e.Incident.Service, e.Incident.ID} },
		Merge: func(a, b Event) Event {
			m := MergeIncident(*a.Incident, *b.Incident)
			a.Incident = &m
			return a
		},
	},
	KindPullRequest: {
		Key: func(e Event) []string {
			return []string{e.PullRequest.Repository, strconv.Itoa(e.PullRequest.Number)}
		},
		Merge: func(a, b Event) Event {
			m := MergePullRequest(*a.PullRequest, *b.PullRequest)
			a.PullRequest = &m
			return a
		},
	},
	KindWorkItem: {
		Key: func(e Event) []string { return []string{e.WorkItem.Tracker, e.WorkItem.Key} },
		Merge: func(a, b Event) Event {
			m := MergeWorkItem(*a.WorkItem, *b.WorkItem)
			a.WorkItem = &m
			return a
		},
	},
	KindBuild: {
		Key: func(e Event) []string { return []string{e.Build.Repository, e.Build.ID} },
		Merge: func(a, b Event) Event {
			m := MergeBuild(*a.Build, *b.Build)
			a.Build = &m
			return a
		},
	},
}

// entitySep separates the parts of an entity key; it cannot occur in the
// identifiers sources send as text.
const entitySep = "\x1f"

// Carries reports whether the event carries the entity its Kind names, the
// precondition of EntityKey and of KindSpec's functions.
func (e Event) Carries() bool {
	switch e.Kind {
	case KindChange:
		return e.Change != nil
	case KindDeployment:
		return e.Deployment != nil
	case KindIncident:
		return e.Incident != nil
	case KindPullRequest:
		return e.PullRequest != nil
	case KindWorkItem:
		return e.WorkItem != nil
	case KindBuild:
		return e.Build != nil
	}
	return false
}

// EntityKey names the entity an event reports, its kind and natural key, as
// one string: what the store records per event to know which entities a
// source reported. It is "" for an event that does not carry its kind.
func (e Event) EntityKey() string {
	spec, ok := Kinds[e.Kind]
	if !ok || !e.Carries() {
		return ""
	}
	return string(e.Kind) + entitySep + strings.Join(spec.Key(e), entitySep)
}

// SplitEntityKey is the inverse of EntityKey.
func SplitEntityKey(key string) (Kind, []string, error) {
	parts := strings.Split(key, entitySep)
	kind := Kind(parts[0])
	if _, ok := Kinds[kind]; !ok || len(parts) < 2 {
		return "", nil, fmt.Errorf("unreadable entity key %q", strings.ReplaceAll(key, entitySep, "/"))
	}
	return kind, parts[1:], nil
}
