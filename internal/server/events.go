package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stride-oss/stride/internal/delivery"
)

// The native event format of POST /api/v1/events: one object, or an array
// of up to delivery.MaxBatch of them, each naming its kind and carrying the
// entity under a field of that name:
//
//	{"key": "deploy-42-done", "kind": "deployment",
//	 "deployment": {"service": "api", "id": "42", "status": "success",
//	                "sha": "9fceb02", "finished_at": "2026-03-02T10:00:00Z"}}
//
// Unknown fields are rejected, so a misspelt field is a clear 400 and not a
// silently missing value.
type wireEvent struct {
	Key            string           `json:"key"`
	IdempotencyKey string           `json:"idempotency_key"`
	Kind           string           `json:"kind"`
	Change         *wireChange      `json:"change"`
	Deployment     *wireDeployment  `json:"deployment"`
	Incident       *wireIncident    `json:"incident"`
	PullRequest    *wirePullRequest `json:"pull_request"`
	WorkItem       *wireWorkItem    `json:"work_item"`
	Build          *wireBuild       `json:"build"`
}

type wireChange struct {
	Repository string   `json:"repository"`
	SHA        string   `json:"sha"`
	Parents    []string `json:"parents"`
	// Ancestry is "" when parents are the commit's true parents (the
	// default), "proven" when only proven_ancestors are known to be
	// ancestors (as a push proves them), "unknown" when nothing is.
	Ancestry        string    `json:"ancestry"`
	ProvenAncestors []string  `json:"proven_ancestors"`
	Author          string    `json:"author"`
	AuthorTime      time.Time `json:"author_time"`
	CommitTime      time.Time `json:"commit_time"`
	Title           string    `json:"title"`
	Incident        string    `json:"incident"`
	// Paths are the files the commit touched, for services that own paths
	// of a monorepo; omitted, they are unknown (not the same as []).
	Paths []string `json:"paths"`
}

type wireDeployment struct {
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	SHA         string    `json:"sha"`
	Repository  string    `json:"repository"`
	Ring        string    `json:"ring"`
	Hotfix      bool      `json:"hotfix"`
	Rollback    bool      `json:"rollback"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type wireIncident struct {
	Service         string    `json:"service"`
	ID              string    `json:"id"`
	Title           string    `json:"title"`
	Severity        *int      `json:"severity"`
	OpenedAt        time.Time `json:"opened_at"`
	AcknowledgedAt  time.Time `json:"acknowledged_at"`
	ResolvedAt      time.Time `json:"resolved_at"`
	CauseDeployment string    `json:"cause_deployment"`
	UpdatedAt       time.Time `json:"updated_at"`
	// Status is "open" or "resolved"; omitted, a report says nothing of it
	// (a resolved_at alone still means resolved).
	Status string `json:"status"`
	// Origin is "customer" or "monitoring": who raised the incident.
	Origin         string `json:"origin"`
	AcknowledgedBy string `json:"acknowledged_by"`
}

type wirePullRequest struct {
	Repository     string    `json:"repository"`
	Number         int       `json:"number"`
	Title          string    `json:"title"`
	Author         string    `json:"author"`
	State          string    `json:"state"`
	CreatedAt      time.Time `json:"created_at"`
	ReadyAt        time.Time `json:"ready_at"`
	FirstCommitAt  time.Time `json:"first_commit_at"`
	FirstReviewAt  time.Time `json:"first_review_at"`
	ApprovedAt     time.Time `json:"approved_at"`
	MergedAt       time.Time `json:"merged_at"`
	ClosedAt       time.Time `json:"closed_at"`
	Additions      int       `json:"additions"`
	Deletions      int       `json:"deletions"`
	ChangedFiles   int       `json:"changed_files"`
	Comments       int       `json:"comments"`
	ReviewComments int       `json:"review_comments"`
	MergeSHA       string    `json:"merge_sha"`
	Commits        []string  `json:"commits"`
	Labels         []string  `json:"labels"`
	UpdatedAt      time.Time `json:"updated_at"`
}

type wireWorkItem struct {
	Tracker            string    `json:"tracker"`
	Key                string    `json:"key"`
	Project            string    `json:"project"`
	Team               string    `json:"team"`
	Type               string    `json:"type"`
	Title              string    `json:"title"`
	Status             string    `json:"status"`
	Category           string    `json:"category"`
	StoryPoints        *float64  `json:"story_points"`
	Sprint             string    `json:"sprint"`
	SprintEnd          time.Time `json:"sprint_end"`
	AcceptanceCriteria bool      `json:"acceptance_criteria"`
	CreatedAt          time.Time `json:"created_at"`
	ResolvedAt         time.Time `json:"resolved_at"`
	Deleted            bool      `json:"deleted"`
	UpdatedAt          time.Time `json:"updated_at"`
	Labels             []string  `json:"labels"`
	Priority           string    `json:"priority"`
	Assignee           string    `json:"assignee"`
	Services           []string  `json:"services"`
	SprintStart        time.Time `json:"sprint_start"`
	// Sprints are every sprint the item was in; Transitions its changelog.
	Sprints     []wireSprintMembership `json:"sprints"`
	Transitions []wireTransition       `json:"transitions"`
}

type wireSprintMembership struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Board       string    `json:"board"`
	State       string    `json:"state"`
	StartAt     time.Time `json:"start_at"`
	EndAt       time.Time `json:"end_at"`
	CompletedAt time.Time `json:"completed_at"`
	AddedAt     time.Time `json:"added_at"`
}

type wireTransition struct {
	At       time.Time `json:"at"`
	Status   string    `json:"status"`
	Category string    `json:"category"`
	Flagged  *bool     `json:"flagged"`
}

func (x *wireWorkItem) sprints() []delivery.SprintMembership {
	if x.Sprints == nil {
		return nil
	}
	out := make([]delivery.SprintMembership, len(x.Sprints))
	for i, m := range x.Sprints {
		out[i] = delivery.SprintMembership{ID: m.ID, Name: m.Name, Board: m.Board, State: m.State, StartAt: m.StartAt, EndAt: m.EndAt, CompletedAt: m.CompletedAt, AddedAt: m.AddedAt}
	}
	return out
}

func (x *wireWorkItem) transitions() []delivery.Transition {
	if x.Transitions == nil {
		return nil
	}
	out := make([]delivery.Transition, len(x.Transitions))
	for i, tr := range x.Transitions {
		out[i] = delivery.Transition{At: tr.At, Status: tr.Status, Category: delivery.WorkItemCategory(tr.Category), Flagged: tr.Flagged}
	}
	return out
}

type wireBuild struct {
	Repository string    `json:"repository"`
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	SHA        string    `json:"sha"`
	Branch     string    `json:"branch"`
	Status     string    `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Attempt is the re-run attempt, 1 for the first (0 or absent: not
	// known); DefaultBranch the repository's default branch.
	Attempt       int    `json:"attempt"`
	DefaultBranch string `json:"default_branch"`
}

// decodeEvents reads one event or an array of events. Errors are
// *delivery.Error values naming the event index and, where it can, the field.
// It checks the JSON only: intake validates the events, once, for every
// writer (its errors name the index and field too).
func decodeEvents(body []byte, maxEvents int) ([]delivery.Event, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, delivery.Errorf(delivery.EINVALID, "empty body: send one event object or an array of events")
	}
	var raws []json.RawMessage
	if body[0] == '[' {
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, jsonError(-1, err)
		}
		if len(raws) == 0 {
			return nil, delivery.Errorf(delivery.EINVALID, "empty array: send at least one event")
		}
		if len(raws) > maxEvents {
			return nil, delivery.Errorf(delivery.EINVALID, "a batch holds at most %d events, got %d", maxEvents, len(raws))
		}
	} else {
		raws = []json.RawMessage{body}
	}
	events := make([]delivery.Event, len(raws))
	for i, raw := range raws {
		var w wireEvent
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			e := jsonError(i, err)
			if de, ok := e.(*delivery.Error); ok && de.Field == "" {
				de.Field = badTimeField(raw)
			}
			return nil, e
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, &delivery.Error{Code: delivery.EINVALID, Index: i, Message: "trailing data after the JSON value"}
		}
		if err := w.check(raw); err != nil {
			err.Index = i
			return nil, err
		}
		events[i] = w.event()
	}
	return events, nil
}

// jsonError turns a decoding error into a message that names the field.
func jsonError(index int, err error) error {
	e := &delivery.Error{Code: delivery.EINVALID, Index: index}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &typeErr):
		e.Field = typeErr.Field
		e.Message = fmt.Sprintf("must be a JSON %s, got %s", typeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		e.Message = fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.As(err, &timeErr):
		e.Message = fmt.Sprintf("a time must be RFC 3339 (2026-03-02T10:00:00Z): %q", timeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		e.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e.Message = "unknown field"
	default:
		e.Message = "malformed JSON: " + err.Error()
	}
	return e
}

// badTimeField names the time field of an event that does not parse
// ("incident.opened_at"), since the JSON decoder's time error names none;
// "" when there is no such field.
func badTimeField(raw json.RawMessage) string {
	var ev map[string]json.RawMessage
	if json.Unmarshal(raw, &ev) != nil {
		return ""
	}
	entities := make([]string, 0, len(ev))
	for k := range ev {
		entities = append(entities, k)
	}
	slices.Sort(entities)
	for _, entity := range entities {
		var fields map[string]json.RawMessage
		if json.Unmarshal(ev[entity], &fields) != nil {
			continue
		}
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, name := range names {
			var str string
			if json.Unmarshal(fields[name], &str) != nil || (!strings.HasSuffix(name, "_at") && !strings.HasSuffix(name, "_time") && name != "sprint_end") {
				continue
			}
			var t time.Time
			if json.Unmarshal(fields[name], &t) != nil {
				return entity + "." + name
			}
		}
	}
	return ""
}

func typeName(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "number"
	case goType == "string":
		return "string"
	case goType == "bool":
		return "boolean"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "object"
}

func (w wireEvent) event() delivery.Event {
	key := w.Key
	if key == "" {
		key = w.IdempotencyKey
	}
	e := delivery.Event{Key: key, Kind: delivery.Kind(w.Kind)}
	if c := w.Change; c != nil {
		e.Change = &delivery.Change{Repository: c.Repository, SHA: c.SHA, Parents: c.Parents, Author: c.Author,
			Ancestry: delivery.Ancestry(c.Ancestry), ProvenAncestors: c.ProvenAncestors,
			AuthorTime: c.AuthorTime, CommitTime: c.CommitTime, Title: c.Title, Incident: c.Incident, Paths: c.Paths}
	}
	if d := w.Deployment; d != nil {
		e.Deployment = &delivery.Deployment{Service: d.Service, Environment: d.Environment, ID: d.ID,
			Status: delivery.DeploymentStatus(d.Status), StartedAt: d.StartedAt, FinishedAt: d.FinishedAt, SHA: d.SHA,
			Repository: d.Repository, Ring: d.Ring, Hotfix: d.Hotfix, Rollback: d.Rollback, UpdatedAt: d.UpdatedAt}
	}
	if in := w.Incident; in != nil {
		// An omitted severity is unknown: it leaves a severity another
		// report gave in place (and is 2 if none ever does).
		severity := delivery.SeverityUnknown
		if in.Severity != nil {
			severity = *in.Severity
		}
		e.Incident = &delivery.Incident{Service: in.Service, ID: in.ID, Title: in.Title, Severity: severity,
			OpenedAt: in.OpenedAt, AcknowledgedAt: in.AcknowledgedAt, ResolvedAt: in.ResolvedAt,
			CauseDeployment: in.CauseDeployment, UpdatedAt: in.UpdatedAt, Status: delivery.IncidentStatus(in.Status),
			Origin: delivery.IncidentOrigin(in.Origin), AcknowledgedBy: in.AcknowledgedBy}
	}
	if p := w.PullRequest; p != nil {
		e.PullRequest = &delivery.PullRequest{Repository: p.Repository, Number: p.Number, Title: p.Title, Author: p.Author,
			State: delivery.PullRequestState(p.State), CreatedAt: p.CreatedAt, ReadyAt: p.ReadyAt, FirstCommitAt: p.FirstCommitAt,
			FirstReviewAt: p.FirstReviewAt, ApprovedAt: p.ApprovedAt, MergedAt: p.MergedAt, ClosedAt: p.ClosedAt,
			Additions: p.Additions, Deletions: p.Deletions, ChangedFiles: p.ChangedFiles, Comments: p.Comments,
			ReviewComments: p.ReviewComments, MergeSHA: p.MergeSHA, Commits: p.Commits, Labels: p.Labels, UpdatedAt: p.UpdatedAt}
	}
	if x := w.WorkItem; x != nil {
		e.WorkItem = &delivery.WorkItem{Tracker: x.Tracker, Key: x.Key, Project: x.Project, Team: x.Team, Type: x.Type,
			Title: x.Title, Status: x.Status, Category: delivery.WorkItemCategory(x.Category), StoryPoints: x.StoryPoints,
			Sprint: x.Sprint, SprintEnd: x.SprintEnd, AcceptanceCriteria: x.AcceptanceCriteria, CreatedAt: x.CreatedAt,
			ResolvedAt: x.ResolvedAt, Deleted: x.Deleted, UpdatedAt: x.UpdatedAt,
			Labels: x.Labels, Priority: x.Priority, Assignee: x.Assignee, Services: x.Services, SprintStart: x.SprintStart,
			Sprints: x.sprints(), Transitions: x.transitions()}
	}
	if b := w.Build; b != nil {
		e.Build = &delivery.Build{Repository: b.Repository, ID: b.ID, Name: b.Name, SHA: b.SHA, Branch: b.Branch,
			Status: delivery.BuildStatus(b.Status), StartedAt: b.StartedAt, FinishedAt: b.FinishedAt, UpdatedAt: b.UpdatedAt,
			Attempt: b.Attempt, DefaultBranch: b.DefaultBranch}
	}
	return e
}

// maxOffset is the largest UTC offset a real time zone has (+14:00, Line
// Islands; the most negative is -12:00): a larger one is a typo.
const maxOffset = 14 * 60 * 60

// check refuses what the JSON decoder accepts but the wire must not: text
// that is not UTF-8 (the decoder would replace it, so distinct keys could
// collide), a negative severity (the domain's unknown severity is -1, never
// a value to send: omit the field instead), and a UTC offset beyond 14
// hours. The error names the field.
func (w wireEvent) check(raw []byte) *delivery.Error {
	if !utf8.Valid(raw) {
		return &delivery.Error{Code: delivery.EINVALID, Field: invalidUTF8Field(raw), Message: "is not valid UTF-8"}
	}
	if in := w.Incident; in != nil && in.Severity != nil && *in.Severity < 0 {
		return &delivery.Error{Code: delivery.EINVALID, Field: "incident.severity", Message: fmt.Sprintf("must be 0 (critical) to 3, got %d; omit it when unknown", *in.Severity)}
	}
	for name, v := range map[string]any{"change": w.Change, "deployment": w.Deployment, "incident": w.Incident,
		"pull_request": w.PullRequest, "work_item": w.WorkItem, "build": w.Build} {
		if field := farOffset(v); field != "" {
			return &delivery.Error{Code: delivery.EINVALID, Field: name + "." + field, Message: "has a UTC offset beyond ±14:00"}
		}
	}
	return nil
}

// farOffset returns the JSON name of the first time field of the struct
// v points to whose offset is beyond maxOffset, "" when none is (or v is
// nil).
func farOffset(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return ""
	}
	rv = rv.Elem()
	for i := range rv.NumField() {
		t, ok := rv.Field(i).Interface().(time.Time)
		if !ok || t.IsZero() {
			continue
		}
		if _, off := t.Zone(); off > maxOffset || off < -maxOffset {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			return name
		}
	}
	return ""
}

// invalidUTF8Field walks raw's tokens and returns the dotted path of the
// first key or string value holding bytes that are not UTF-8
// ("deployment.service"); array elements are named by their array.
func invalidUTF8Field(raw []byte) string {
	type frame struct {
		object    bool
		key       string
		expectKey bool
	}
	var stack []frame
	// path names the string just read: the keys of the enclosing
	// objects, then the key it is (or the key whose value it is).
	path := func(key string) string {
		var parts []string
		for _, f := range stack[:len(stack)-1] {
			if f.object {
				parts = append(parts, f.key)
			}
		}
		if top := stack[len(stack)-1]; top.object {
			if top.expectKey {
				parts = append(parts, key)
			} else {
				parts = append(parts, top.key)
			}
		}
		return strings.Join(parts, ".")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				stack = append(stack, frame{object: tok == '{', expectKey: tok == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].expectKey = true
				}
			}
			continue
		case string:
			if !utf8.Valid(raw[before:dec.InputOffset()]) {
				if top == nil {
					return ""
				}
				return path(tok)
			}
		}
		if top != nil && top.object {
			if top.expectKey {
				top.key = tok.(string)
			}
			top.expectKey = !top.expectKey
		}
	}
}
