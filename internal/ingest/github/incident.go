package github

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// severityLabel matches the common ways of labelling severity: "sev1",
// "sev-1", "severity:1", "severity/1", "P1", "p-1". The digit is the
// domain's severity (0 = critical).
var severityLabel = regexp.MustCompile(`^(?:sev(?:erity)?|p)\s*[-:/_ ]?\s*([0-3])$`)

// serviceLabel names the affected service explicitly ("service:payments"),
// for repositories that hold several services.
const serviceLabel = "service:"

// issues reports an issue labelled as an incident. Time to restore reads
// opened and resolved; other actions (assigned, milestoned, ...) change
// neither.
func (s *Source) issues(body []byte) ([]delivery.Event, error) {
	var e issuesEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	switch e.Action {
	case "opened", "labeled", "edited", "reopened", "closed":
	default:
		return nil, ingest.Ignored("github: issues action %q", e.Action)
	}
	switch {
	case e.Repository == nil || e.Repository.FullName == "":
		return nil, missing("issues", "repository.full_name")
	case e.Issue == nil || e.Issue.Number <= 0:
		return nil, missing("issues", "issue.number")
	}
	is := e.Issue
	repo := e.Repository.FullName
	labels := labelNames(is.Labels)
	if !s.cfg.Mapping.IsIncident(labels) {
		return nil, ingest.Ignored("github: issue %s#%d is not labelled as an incident", repo, is.Number)
	}
	if is.CreatedAt.IsZero() {
		return nil, missing("issues", "issue.created_at")
	}
	in := &delivery.Incident{
		Service:   s.incidentService(repo, labels),
		ID:        issueIncidentID(strconv.Itoa(is.Number)),
		Title:     is.Title,
		Severity:  s.severity(labels),
		OpenedAt:  is.CreatedAt,
		UpdatedAt: is.UpdatedAt,
	}
	// Every issues event carries the issue's state, so each report says
	// whether the incident is open: a reopened issue loses its resolution.
	switch {
	case e.Action == "reopened":
		in.Status = delivery.IncidentOpen
	case e.Action == "closed" || is.State == "closed":
		if is.ClosedAt.IsZero() {
			return nil, missing("issues", "issue.closed_at")
		}
		in.Status, in.ResolvedAt = delivery.IncidentResolved, is.ClosedAt
	case is.State == "open":
		in.Status = delivery.IncidentOpen
	}
	detail := ""
	if e.Action == "labeled" && e.Label != nil {
		detail = ":" + e.Label.Name
	}
	key := fmt.Sprintf("github:issues:%s:%d:%s:%s%s", repo, is.Number, e.Action, stamp(is.UpdatedAt), detail)
	return []delivery.Event{{Key: key, Kind: delivery.KindIncident, Incident: in}}, nil
}

// incidentService is the service a "service:<name>" label names, or else
// the repository's first service: one incident is one outage, so it is not
// copied to every service of the repository.
func (s *Source) incidentService(repo string, labels []string) string {
	for _, l := range labels {
		if name, ok := strings.CutPrefix(strings.ToLower(l), serviceLabel); ok && strings.TrimSpace(name) != "" {
			return strings.TrimSpace(l[len(serviceLabel):])
		}
	}
	return s.cfg.Mapping.Service(repo).Name
}

// severity reads the most severe severity label, or else the configured
// default, or else delivery.SeverityUnknown.
func (s *Source) severity(labels []string) int {
	sev := -1
	for _, l := range labels {
		m := severityLabel.FindStringSubmatch(strings.ToLower(strings.TrimSpace(l)))
		if m == nil {
			continue
		}
		n := int(m[1][0] - '0')
		if sev < 0 || n < sev {
			sev = n
		}
	}
	if sev < 0 {
		return s.defaultSeverity
	}
	return sev
}
