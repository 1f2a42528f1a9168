package gitlab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// glTime is a time as GitLab writes it. GitLab's hooks mix formats across
// events and versions: RFC 3339 ("2013-12-03T17:23:34Z"), and Ruby's
// "2015-05-17 18:21:36 UTC" or "2021-04-28 21:50:00 +0200". null and ""
// read as the zero time.
type glTime struct{ time.Time }

var glLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02T15:04:05.999999999-0700",
}

func (t *glTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
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
	if s == "" {
		return time.Time{}, nil
	}
	// Ruby writes UTC times with the zone's name; no other name is
	// accepted, as a name alone does not say what offset it means.
	if rest, ok := strings.CutSuffix(s, " UTC"); ok {
		s = rest + " +0000"
	}
	for _, l := range glLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: not a format GitLab writes", s)
}

// flexInt reads a number GitLab sends either as a JSON number or as a
// string, such as changes_count ("12", or "1000+" beyond GitLab's limit,
// read as the lower bound 1000).
type flexInt struct {
	N   int
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), "+")
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("count %q: not a non-negative integer", s)
	}
	f.N, f.Set = n, true
	return nil
}

type project struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
	DefaultBranch     string `json:"default_branch"`
}

type user struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

type label struct {
	Title string `json:"title"`
}

func labelTitles(ls []label) []string {
	if ls == nil {
		return nil
	}
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		if l.Title != "" {
			out = append(out, l.Title)
		}
	}
	return out
}

type pushEvent struct {
	Before            string   `json:"before"`
	After             string   `json:"after"`
	Ref               string   `json:"ref"`
	Project           project  `json:"project"`
	Commits           []commit `json:"commits"`
	TotalCommitsCount int      `json:"total_commits_count"`
}

type commit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	Title     string `json:"title"`
	Timestamp glTime `json:"timestamp"`
	Author    struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"author"`
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Removed  []string `json:"removed"`
}

type mergeRequestEvent struct {
	User    user    `json:"user"`
	Project project `json:"project"`
	Attrs   struct {
		IID            int     `json:"iid"`
		AuthorID       int64   `json:"author_id"`
		Title          string  `json:"title"`
		State          string  `json:"state"`
		Action         string  `json:"action"`
		CreatedAt      glTime  `json:"created_at"`
		UpdatedAt      glTime  `json:"updated_at"`
		MergedAt       glTime  `json:"merged_at"`
		ClosedAt       glTime  `json:"closed_at"`
		MergeCommitSHA string  `json:"merge_commit_sha"`
		Labels         []label `json:"labels"`
		ChangesCount   flexInt `json:"changes_count"`
		LastCommit     struct {
			ID string `json:"id"`
		} `json:"last_commit"`
	} `json:"object_attributes"`
	Labels  []label `json:"labels"`
	Changes struct {
		Draft *struct {
			Previous bool `json:"previous"`
			Current  bool `json:"current"`
		} `json:"draft"`
	} `json:"changes"`
}

type noteEvent struct {
	User    user    `json:"user"`
	Project project `json:"project"`
	Attrs   struct {
		ID           int64  `json:"id"`
		NoteableType string `json:"noteable_type"`
		AuthorID     int64  `json:"author_id"`
		System       bool   `json:"system"`
		CreatedAt    glTime `json:"created_at"`
	} `json:"object_attributes"`
	MergeRequest *struct {
		IID       int    `json:"iid"`
		AuthorID  int64  `json:"author_id"`
		Title     string `json:"title"`
		CreatedAt glTime `json:"created_at"`
	} `json:"merge_request"`
}

type pipelineEvent struct {
	Project project `json:"project"`
	Attrs   struct {
		ID         int64  `json:"id"`
		Name       string `json:"name"`
		Ref        string `json:"ref"`
		Tag        bool   `json:"tag"`
		SHA        string `json:"sha"`
		Status     string `json:"status"`
		CreatedAt  glTime `json:"created_at"`
		FinishedAt glTime `json:"finished_at"`
	} `json:"object_attributes"`
}

type deploymentEvent struct {
	Status          string  `json:"status"`
	StatusChangedAt glTime  `json:"status_changed_at"`
	DeploymentID    int64   `json:"deployment_id"`
	Environment     string  `json:"environment"`
	Project         project `json:"project"`
	SHA             string  `json:"sha"`
	ShortSHA        string  `json:"short_sha"`
	CommitURL       string  `json:"commit_url"`
	Ref             string  `json:"ref"`
}

type issueEvent struct {
	Project project `json:"project"`
	Attrs   struct {
		IID              int     `json:"iid"`
		Title            string  `json:"title"`
		IssueType        string  `json:"issue_type"`
		Type             string  `json:"type"`
		State            string  `json:"state"`
		Action           string  `json:"action"`
		Severity         string  `json:"severity"`
		EscalationStatus string  `json:"escalation_status"`
		CreatedAt        glTime  `json:"created_at"`
		UpdatedAt        glTime  `json:"updated_at"`
		ClosedAt         glTime  `json:"closed_at"`
		Labels           []label `json:"labels"`
	} `json:"object_attributes"`
	Labels []label `json:"labels"`
}
