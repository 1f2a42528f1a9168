package jira

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// jiraTime is a time as Jira writes it: "2024-01-15T10:00:00.000+0000" in
// issue fields, RFC 3339 in sprints. null and "" read as the zero time.
type jiraTime struct{ time.Time }

var jiraLayouts = []string{
	"2006-01-02T15:04:05.999999999-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05-0700",
}

func (t *jiraTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	parsed, err := parseTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "<null>" {
		return time.Time{}, nil
	}
	for _, l := range jiraLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: not a format Jira writes", s)
}

type named struct {
	Name string `json:"name"`
}

type webhook struct {
	WebhookEvent string `json:"webhookEvent"`
	Timestamp    int64  `json:"timestamp"`
	Issue        *struct {
		ID     string          `json:"id"`
		Key    string          `json:"key"`
		Fields json.RawMessage `json:"fields"`
		// Changelog is there when the issue was read with
		// ?expand=changelog (the collector), never in a webhook.
		Changelog *expandedChangelog `json:"changelog"`
	} `json:"issue"`
	Changelog *struct {
		ID    string          `json:"id"`
		Items []changelogItem `json:"items"`
	} `json:"changelog"`
}

// changelogItem is one field change of a changelog entry.
type changelogItem struct {
	Field      string  `json:"field"`
	From       *string `json:"from"`
	FromString *string `json:"fromString"`
	To         *string `json:"to"`
	ToString   *string `json:"toString"`
}

// history is one entry of an issue's changelog as the REST API expands it
// (?expand=changelog): the webhook sends only the entry of its event.
type history struct {
	Created jiraTime        `json:"created"`
	Items   []changelogItem `json:"items"`
}

type expandedChangelog struct {
	Total     int       `json:"total"`
	Histories []history `json:"histories"`
}

type fields struct {
	Summary   string `json:"summary"`
	IssueType named  `json:"issuetype"`
	Project   struct {
		Key string `json:"key"`
	} `json:"project"`
	Status struct {
		Name           string `json:"name"`
		StatusCategory struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	} `json:"status"`
	Priority *named `json:"priority"`
	// StatusCategoryChanged is when the issue entered its status category.
	StatusCategoryChanged jiraTime        `json:"statuscategorychangedate"`
	Created               jiraTime        `json:"created"`
	Updated               jiraTime        `json:"updated"`
	ResolutionDate        jiraTime        `json:"resolutiondate"`
	Description           json.RawMessage `json:"description"`
	Labels                []string        `json:"labels"`
	Components            []named         `json:"components"`
	Assignee              *struct {
		AccountID   string `json:"accountId"`
		Name        string `json:"name"` // Jira Server
		DisplayName string `json:"displayName"`
	} `json:"assignee"`
}

// categories maps Jira's status category keys to the domain's.
var categories = map[string]delivery.WorkItemCategory{
	"new":           delivery.CategoryToDo,
	"indeterminate": delivery.CategoryInProgress,
	"done":          delivery.CategoryDone,
}

// Translate maps an issue event to a work item, and to an incident as well
// when the issue's type is one of IncidentIssueTypes. Every other event
// (comments, sprints, versions, ...) is ignored. Every event is validated
// here, so a delivery yields valid events or an error.
func (s *Source) Translate(_ http.Header, body []byte) ([]delivery.Event, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, ingest.Malformed("jira: body is not a webhook: %v", err)
	}
	switch w.WebhookEvent {
	case "jira:issue_created", "jira:issue_updated", "jira:issue_deleted":
	case "":
		return nil, ingest.Malformed("jira: webhookEvent is missing")
	default:
		return nil, ingest.Ignored("jira: %s events are not used", w.WebhookEvent)
	}
	events, err := s.issue(w)
	if err != nil {
		return nil, fmt.Errorf("jira %s: %w", w.WebhookEvent, err)
	}
	for i := range events {
		events[i].Source = Name
		if err := events[i].Validate(); err != nil {
			return nil, fmt.Errorf("jira %s: event %d: %w", w.WebhookEvent, i, err)
		}
	}
	return events, nil
}

func (s *Source) issue(w webhook) ([]delivery.Event, error) {
	if w.Issue == nil || w.Issue.Key == "" {
		return nil, ingest.Malformed("issue.key is missing")
	}
	var f fields
	var custom map[string]json.RawMessage
	if len(w.Issue.Fields) > 0 {
		if err := json.Unmarshal(w.Issue.Fields, &f); err != nil {
			return nil, ingest.Malformed("issue.fields: %v", err)
		}
		if err := json.Unmarshal(w.Issue.Fields, &custom); err != nil {
			return nil, ingest.Malformed("issue.fields: %v", err)
		}
	}
	project := f.Project.Key
	if project == "" {
		project, _, _ = strings.Cut(w.Issue.Key, "-")
	}
	deleted := w.WebhookEvent == "jira:issue_deleted"
	var stamp time.Time
	if w.Timestamp > 0 {
		stamp = time.UnixMilli(w.Timestamp).UTC()
	}
	// The last update, or the moment of the event when the issue carries
	// none. A deletion comes after the issue's last update, so it takes the
	// later of the two and wins over every earlier report.
	updated := f.Updated.Time
	if updated.IsZero() || (deleted && stamp.After(updated)) {
		updated = stamp
	}
	points, err := storyPoints(custom[s.cfg.StoryPointsField])
	if err != nil {
		return nil, ingest.Malformed("story points field %s: %v", s.cfg.StoryPointsField, err)
	}
	sprints, err := readSprints(custom[s.cfg.SprintField])
	if err != nil {
		return nil, ingest.Malformed("sprint field %s: %v", s.cfg.SprintField, err)
	}
	sprint := currentSprint(sprints)
	ac := false
	if s.cfg.AcceptanceCriteriaField != "" {
		ac = nonEmpty(custom[s.cfg.AcceptanceCriteriaField])
	}
	if !ac {
		ac = hasAcceptanceCriteria(f.Description)
	}
	item := &delivery.WorkItem{
		Tracker:            Name,
		Key:                w.Issue.Key,
		Project:            project,
		Team:               s.cfg.ProjectTeams[project],
		Type:               f.IssueType.Name,
		Title:              f.Summary,
		Status:             f.Status.Name,
		Category:           categories[f.Status.StatusCategory.Key],
		StoryPoints:        points,
		Sprint:             sprint.Name,
		SprintEnd:          sprint.EndDate.Time,
		AcceptanceCriteria: ac,
		CreatedAt:          f.Created.Time,
		ResolvedAt:         f.ResolutionDate.Time,
		Deleted:            deleted,
		UpdatedAt:          updated,
		SprintStart:        sprint.StartDate.Time,
		Labels:             f.Labels,
		Priority:           priorityName(f.Priority),
		Assignee:           assignee(f),
		Services:           s.services(f),
	}
	var histories []history
	complete := false
	switch full := w.Issue.Changelog; {
	case full != nil:
		// The search returns at most 100 entries of a changelog; a longer
		// one is partial, and said to be.
		histories = full.Histories
		complete = len(histories) >= full.Total
	case w.Changelog != nil && len(w.Changelog.Items) > 0 && !stamp.IsZero():
		histories = []history{{Created: jiraTime{stamp}, Items: w.Changelog.Items}}
	}
	item.Transitions, item.Sprints = readChangelog(histories, complete, item, sprints)
	changelog := ""
	if w.Changelog != nil {
		changelog = w.Changelog.ID
	}
	k := key(strings.TrimPrefix(w.WebhookEvent, "jira:"), w.Issue.ID, w.Issue.Key, strconv.FormatInt(w.Timestamp, 10), changelog, timeKey(updated))
	events := []delivery.Event{{Key: k, Kind: delivery.KindWorkItem, WorkItem: item}}

	if deleted || !slices.ContainsFunc(s.cfg.IncidentIssueTypes, func(t string) bool { return strings.EqualFold(t, f.IssueType.Name) }) {
		return events, nil
	}
	service := s.incidentService(f)
	if service == "" {
		// Without a service the incident cannot be attributed; the work
		// item still records it. docs/jira.md tells how to name one.
		return events, nil
	}
	priority := priorityName(f.Priority)
	// Jira sets the resolution date when an issue is resolved and clears it
	// when the issue is reopened, so each report knows whether it is open.
	status := delivery.IncidentOpen
	if !f.ResolutionDate.Time.IsZero() {
		status = delivery.IncidentResolved
	}
	// An incident taken into progress (status category In Progress) is
	// being answered: it is acknowledged when it entered that category, as
	// Jira stamps it on every report while it stays there, or else at this
	// update. Without this a Jira incident worked on within its SLA and
	// resolved after it would count as breached.
	var acked time.Time
	if f.Status.StatusCategory.Key == "indeterminate" {
		acked = f.StatusCategoryChanged.Time
		if acked.IsZero() || acked.Before(f.Created.Time) || acked.After(updated) {
			acked = updated
		}
	}
	events = append(events, delivery.Event{
		Key:  k + ":incident",
		Kind: delivery.KindIncident,
		Incident: &delivery.Incident{
			Service:        service,
			ID:             w.Issue.Key,
			Title:          f.Summary,
			Severity:       severity(priority),
			OpenedAt:       f.Created.Time,
			AcknowledgedAt: acked,
			ResolvedAt:     f.ResolutionDate.Time,
			Status:         status,
			UpdatedAt:      updated,
		},
	})
	return events, nil
}

// incidentService names the service an incident issue is about: the first
// component whose name is a service of the Mapping, else a label
// "service:<name>" (or "service::<name>"), else the first component as it
// is. Incidents are usually filed in a shared project, so the project says
// nothing about the service.
func (s *Source) incidentService(f fields) string {
	known := func(name string) string {
		for _, sm := range s.cfg.Mapping.Services {
			if strings.EqualFold(sm.Name, name) {
				return sm.Name
			}
		}
		return ""
	}
	for _, c := range f.Components {
		if n := known(c.Name); n != "" {
			return n
		}
	}
	for _, l := range f.Labels {
		for _, prefix := range []string{"service::", "service:"} {
			if len(l) <= len(prefix) || !strings.EqualFold(l[:len(prefix)], prefix) {
				continue
			}
			name := strings.TrimSpace(l[len(prefix):])
			if n := known(name); n != "" {
				return n
			}
			if name != "" {
				return name
			}
		}
	}
	for _, c := range f.Components {
		if strings.TrimSpace(c.Name) != "" {
			return strings.TrimSpace(c.Name)
		}
	}
	return ""
}

// priorities maps Jira's priority names (Cloud's default scheme and the
// older Server one) to severities 0 (critical) to 3.
var priorities = map[string]int{
	"highest":  delivery.SeverityCritical,
	"blocker":  delivery.SeverityCritical,
	"critical": delivery.SeverityCritical,
	"high":     delivery.SeverityMajor,
	"major":    delivery.SeverityMajor,
	"medium":   delivery.SeverityMinor,
	"minor":    delivery.SeverityMinor,
	"low":      delivery.SeverityLow,
	"lowest":   delivery.SeverityLow,
	"trivial":  delivery.SeverityLow,
}

// severity reads a priority name; an unknown or missing priority is
// Medium, Jira's own default priority.
func severity(priority string) int {
	if sev, ok := priorities[strings.ToLower(strings.TrimSpace(priority))]; ok {
		return sev
	}
	return delivery.SeverityMinor
}

// storyPoints reads the estimate field: nil when absent or null, which is
// "not estimated" and differs from an estimate of 0.
func storyPoints(raw json.RawMessage) (*float64, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, fmt.Errorf("not a number: %s", raw)
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		if v, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return nil, fmt.Errorf("not a number: %q", s)
		}
	}
	return &v, nil
}

type sprint struct {
	ID           json.Number `json:"id"`
	Name         string      `json:"name"`
	State        string      `json:"state"`
	BoardID      json.Number `json:"boardId"`
	StartDate    jiraTime    `json:"startDate"`
	EndDate      jiraTime    `json:"endDate"`
	CompleteDate jiraTime    `json:"completeDate"`
}

// readSprints reads the sprint field: every sprint the issue was in. Jira
// Cloud sends sprints as objects; older Jira Server sends each as a string
// "com.atlassian.greenhopper...Sprint@1a2b[id=1,state=ACTIVE,name=Sprint
// 1,...,endDate=...]", which is read too.
func readSprints(raw json.RawMessage) ([]sprint, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("not a list: %w", err)
	}
	var sprints []sprint
	for _, it := range items {
		var sp sprint
		var legacy string
		switch {
		case json.Unmarshal(it, &legacy) == nil:
			var err error
			if sp, err = legacySprint(legacy); err != nil {
				return nil, err
			}
		default:
			if err := json.Unmarshal(it, &sp); err != nil {
				return nil, fmt.Errorf("sprint: %w", err)
			}
		}
		sprints = append(sprints, sp)
	}
	return sprints, nil
}

// currentSprint picks the sprint an issue is in: the active one when there
// is one, else the last listed (Jira lists an issue's sprints in the order
// it was in them).
func currentSprint(sprints []sprint) sprint {
	if len(sprints) == 0 {
		return sprint{}
	}
	for i := len(sprints) - 1; i >= 0; i-- {
		if strings.EqualFold(sprints[i].State, "active") {
			return sprints[i]
		}
	}
	return sprints[len(sprints)-1]
}

func priorityName(p *named) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(p.Name)
}

// assignee names the assignee as people know them (the display name), else
// by the account.
func assignee(f fields) string {
	a := f.Assignee
	switch {
	case a == nil:
		return ""
	case strings.TrimSpace(a.DisplayName) != "":
		return strings.TrimSpace(a.DisplayName)
	case a.Name != "":
		return a.Name
	}
	return a.AccountID
}

// services names the services an issue belongs to: its components, each
// through ComponentServices when that maps it, and its labels
// "service:<name>" (or "service::<name>"). An issue without either belongs
// to none (nil, since Jira always sends components and labels, so "none"
// is known).
func (s *Source) services(f fields) []string {
	out := []string{}
	for _, c := range f.Components {
		name := strings.TrimSpace(c.Name)
		if m, ok := s.cfg.ComponentServices[name]; ok {
			name = m
		}
		if name != "" {
			out = append(out, name)
		}
	}
	for _, l := range f.Labels {
		for _, prefix := range []string{"service::", "service:"} {
			if len(l) > len(prefix) && strings.EqualFold(l[:len(prefix)], prefix) {
				if name := strings.TrimSpace(l[len(prefix):]); name != "" {
					out = append(out, name)
				}
				break
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readChangelog turns changelog entries into the item's transitions (status
// changes and Flagged set or cleared) and its sprints with the time it
// last entered each. complete says the entries are the issue's whole
// changelog: then the status it was created in is known (the first
// change's from, or the status it still has), and a sprint no entry added
// it to held it since its creation. Without any entries the transitions
// stay nil: no changelog was read.
func readChangelog(hs []history, complete bool, item *delivery.WorkItem, sprints []sprint) ([]delivery.Transition, []delivery.SprintMembership) {
	hs = slices.Clone(hs)
	slices.SortStableFunc(hs, func(a, b history) int { return a.Created.Compare(b.Created.Time) })
	category := func(status string) delivery.WorkItemCategory {
		if strings.EqualFold(status, item.Status) {
			return item.Category
		}
		return "" // the report resolves it from the statuses it knows
	}
	var out []delivery.Transition
	if complete {
		out = []delivery.Transition{}
	}
	added := map[string]time.Time{}
	initial := ""
	for _, h := range hs {
		if h.Created.IsZero() {
			continue
		}
		for _, it := range h.Items {
			switch strings.ToLower(it.Field) {
			case "status":
				if it.ToString == nil || *it.ToString == "" {
					continue
				}
				if initial == "" && it.FromString != nil {
					initial = *it.FromString
				}
				out = append(out, delivery.Transition{At: h.Created.Time, Status: *it.ToString, Category: category(*it.ToString)})
			case "flagged":
				on := it.ToString != nil && strings.TrimSpace(*it.ToString) != ""
				out = append(out, delivery.Transition{At: h.Created.Time, Flagged: &on})
			case "sprint":
				before := idSet(it.From)
				for id := range idSet(it.To) {
					if !before[id] {
						added[id] = h.Created.Time
					}
				}
			}
		}
	}
	if complete && !item.CreatedAt.IsZero() {
		if initial == "" {
			initial = item.Status
		}
		if initial != "" {
			out = append(out, delivery.Transition{At: item.CreatedAt, Status: initial, Category: category(initial)})
		}
	}
	var ms []delivery.SprintMembership
	for _, sp := range sprints {
		id := sp.ID.String()
		if id == "" {
			id = sp.Name
		}
		if id == "" {
			continue
		}
		at, ok := added[id]
		if !ok && complete {
			at = item.CreatedAt
		}
		ms = append(ms, delivery.SprintMembership{ID: id, Name: sp.Name, Board: sp.BoardID.String(), State: strings.ToLower(sp.State),
			StartAt: sp.StartDate.Time, EndAt: sp.EndDate.Time, CompletedAt: sp.CompleteDate.Time, AddedAt: at})
	}
	return out, ms
}

// idSet reads a changelog value listing sprint ids ("36, 37").
func idSet(v *string) map[string]bool {
	out := map[string]bool{}
	if v == nil {
		return out
	}
	for _, id := range strings.Split(*v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out[id] = true
		}
	}
	return out
}

func legacySprint(s string) (sprint, error) {
	open := strings.IndexByte(s, '[')
	if open < 0 || !strings.HasSuffix(s, "]") {
		return sprint{}, fmt.Errorf("sprint %q: neither an object nor Jira Server's sprint string", s)
	}
	var sp sprint
	// Attributes are comma-separated key=value pairs; a name may itself
	// hold a comma, so a part without "=" continues the previous value.
	var last string
	attrs := map[string]string{}
	for _, part := range strings.Split(s[open+1:len(s)-1], ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.ContainsAny(k, " ") {
			if last != "" {
				attrs[last] += "," + part
			}
			continue
		}
		attrs[k], last = v, k
	}
	sp.Name, sp.State = attrs["name"], attrs["state"]
	sp.ID, sp.BoardID = json.Number(attrs["id"]), json.Number(attrs["rapidViewId"])
	for _, d := range []struct {
		attr string
		to   *jiraTime
	}{{"startDate", &sp.StartDate}, {"endDate", &sp.EndDate}, {"completeDate", &sp.CompleteDate}} {
		at, err := parseTime(attrs[d.attr])
		if err != nil {
			return sprint{}, fmt.Errorf("sprint %q: %w", sp.Name, err)
		}
		d.to.Time = at
	}
	return sp, nil
}

// nonEmpty reports whether a custom field holds something: text that is not
// blank, a non-empty list, an Atlassian Document with text, or any number or
// boolean.
func nonEmpty(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return false
	}
	switch raw[0] {
	case '"':
		var s string
		return json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) != ""
	case '[':
		var l []json.RawMessage
		return json.Unmarshal(raw, &l) == nil && len(l) > 0
	case '{':
		var n adfNode
		if json.Unmarshal(raw, &n) != nil {
			return false
		}
		for _, b := range adfBlocks(n, nil) {
			if strings.TrimSpace(b.text) != "" {
				return true
			}
		}
		return false
	}
	return true
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// key builds an idempotency key from payload values. A key that would exceed
// the domain's bound is replaced by its digest, which is just as stable.
func key(parts ...string) string {
	k := Name + ":" + strings.Join(parts, ":")
	if len(k) <= delivery.MaxKeyLength {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return Name + ":sha256:" + hex.EncodeToString(sum[:])
}
