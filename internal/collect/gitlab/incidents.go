package gitlab

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// incidents reads the project's incidents as the issue event would carry
// them: the issues of type incident, and the issues with a label the
// mapping says marks an incident (default "incident"), each list with its
// own cursor. An issue in both lists is the same event twice, stored once.
func (r *projectRun) incidents(ctx context.Context) error {
	if err := r.list(ctx, "issues:incident", "/issues", url.Values{"issue_type": {"incident"}, "state": {"all"}}, nil, r.issue); err != nil {
		return err
	}
	labels := r.c.cfg.Webhook.Mapping.IncidentLabels
	if len(labels) == 0 {
		labels = []string{"incident"}
	}
	for _, l := range labels {
		if err := r.list(ctx, "issues:label:"+l, "/issues", url.Values{"labels": {l}, "state": {"all"}}, nil, r.issue); err != nil {
			return err
		}
	}
	return nil
}

// issue maps an issue of GET /projects/:id/issues as the issue event would
// be: closed at closed_at, or open; its severity from its labels, else
// from GitLab's severity (incidents only: UNKNOWN, LOW ... CRITICAL).
func (r *projectRun) issue(raw json.RawMessage, _ time.Time) ([]map[string]any, error) {
	var is struct {
		IID       int       `json:"iid"`
		Title     string    `json:"title"`
		State     string    `json:"state"`
		IssueType string    `json:"issue_type"`
		Severity  string    `json:"severity"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
		ClosedAt  time.Time `json:"closed_at"`
		Labels    []string  `json:"labels"`
	}
	if json.Unmarshal(raw, &is) != nil {
		return nil, nil
	}
	action := "open"
	if is.State == "closed" {
		action = "close"
	}
	labels := make([]map[string]any, 0, len(is.Labels))
	for _, l := range is.Labels {
		labels = append(labels, map[string]any{"title": l})
	}
	return []map[string]any{{"object_kind": "issue", "labels": labels, "object_attributes": map[string]any{
		"iid": is.IID, "title": is.Title, "issue_type": is.IssueType, "state": is.State, "action": action, "severity": is.Severity,
		"created_at": is.CreatedAt, "updated_at": is.UpdatedAt, "closed_at": timeOrNil(is.ClosedAt), "labels": labels}}}, nil
}
