package github

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The types below hold only the fields Stride reads; encoding/json skips the
// rest of GitHub's (large) payloads. Times use time.Time, whose decoder
// leaves a JSON null as the zero time, which is what "not known" means in
// the domain.

type user struct {
	Login string `json:"login"`
}

type repository struct {
	FullName      string `json:"full_name"`
	DefaultBranch string `json:"default_branch"`
	// MasterBranch is what older push payloads call the default branch.
	MasterBranch string `json:"master_branch"`
}

func (r *repository) defaultBranch() string {
	if r.DefaultBranch != "" {
		return r.DefaultBranch
	}
	return r.MasterBranch
}

type label struct {
	Name string `json:"name"`
}

// labelNames returns the names of labels; never nil, because a payload that
// carries a labels array reports them, even when there are none.
func labelNames(ls []label) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		if l.Name != "" {
			out = append(out, l.Name)
		}
	}
	return out
}

type gitUser struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username"`
}

// who returns the most stable name of a git identity: the GitHub login when
// GitHub knows it, else the name, else the e-mail address.
func (u gitUser) who() string {
	switch {
	case u.Username != "":
		return u.Username
	case u.Name != "":
		return u.Name
	}
	return u.Email
}

type pushCommit struct {
	ID        string    `json:"id"`
	Message   string    `json:"message"`
	Timestamp time.Time `json:"timestamp"`
	Author    gitUser   `json:"author"`
	Committer gitUser   `json:"committer"`
	Added     []string  `json:"added"`
	Removed   []string  `json:"removed"`
	Modified  []string  `json:"modified"`
}

type pushEvent struct {
	Ref        string          `json:"ref"`
	Before     string          `json:"before"`
	After      string          `json:"after"`
	Created    bool            `json:"created"`
	Deleted    bool            `json:"deleted"`
	Forced     bool            `json:"forced"`
	Commits    []pushCommit    `json:"commits"`
	HeadCommit *pushCommit     `json:"head_commit"`
	Repository *pushRepository `json:"repository"`
}

// pushRepository is the repository of a push payload, which alone carries
// pushed_at as a unix timestamp (other payloads carry a string).
type pushRepository struct {
	repository
	PushedAt flexTime `json:"pushed_at"`
}

// flexTime reads a time given either as unix seconds (a JSON number, as
// push payloads give repository.pushed_at) or as an RFC 3339 string; null
// and "" are the zero time.
type flexTime struct{ time.Time }

func (t *flexTime) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "null" || s == `""`:
		t.Time = time.Time{}
		return nil
	case strings.HasPrefix(s, `"`):
		return t.Time.UnmarshalJSON(b)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("a time is neither unix seconds nor an RFC 3339 string: %s", s)
	}
	t.Time = time.Unix(n, 0).UTC()
	return nil
}

type pullRequest struct {
	Number         int       `json:"number"`
	State          string    `json:"state"`
	Title          string    `json:"title"`
	User           *user     `json:"user"`
	Draft          bool      `json:"draft"`
	Merged         bool      `json:"merged"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	ClosedAt       time.Time `json:"closed_at"`
	MergedAt       time.Time `json:"merged_at"`
	MergeCommitSHA string    `json:"merge_commit_sha"`
	Labels         []label   `json:"labels"`
	// The counts are absent from the short pull request object of review
	// payloads; a pointer tells absent from zero.
	Additions      *int `json:"additions"`
	Deletions      *int `json:"deletions"`
	ChangedFiles   *int `json:"changed_files"`
	Comments       *int `json:"comments"`
	ReviewComments *int `json:"review_comments"`
}

func (p *pullRequest) author() string {
	if p.User == nil {
		return ""
	}
	return p.User.Login
}

type pullRequestEvent struct {
	Action      string       `json:"action"`
	Number      int          `json:"number"`
	PullRequest *pullRequest `json:"pull_request"`
	Label       *label       `json:"label"`
	After       string       `json:"after"`
	Repository  *repository  `json:"repository"`
}

type review struct {
	ID          int64     `json:"id"`
	User        *user     `json:"user"`
	State       string    `json:"state"`
	SubmittedAt time.Time `json:"submitted_at"`
}

type reviewEvent struct {
	Action      string       `json:"action"`
	Review      *review      `json:"review"`
	PullRequest *pullRequest `json:"pull_request"`
	Repository  *repository  `json:"repository"`
}

type comment struct {
	ID        int64     `json:"id"`
	User      *user     `json:"user"`
	CreatedAt time.Time `json:"created_at"`
}

type reviewCommentEvent struct {
	Action      string       `json:"action"`
	Comment     *comment     `json:"comment"`
	PullRequest *pullRequest `json:"pull_request"`
	Repository  *repository  `json:"repository"`
}

type issue struct {
	Number    int       `json:"number"`
	Title     string    `json:"title"`
	State     string    `json:"state"`
	User      *user     `json:"user"`
	Labels    []label   `json:"labels"`
	Comments  *int      `json:"comments"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ClosedAt  time.Time `json:"closed_at"`
	// PullRequest is present when the issue is a pull request.
	PullRequest json.RawMessage `json:"pull_request"`
}

func (i *issue) isPullRequest() bool {
	return len(i.PullRequest) > 0 && string(i.PullRequest) != "null"
}

type issueCommentEvent struct {
	Action     string      `json:"action"`
	Issue      *issue      `json:"issue"`
	Comment    *comment    `json:"comment"`
	Repository *repository `json:"repository"`
}

type issuesEvent struct {
	Action     string      `json:"action"`
	Issue      *issue      `json:"issue"`
	Label      *label      `json:"label"`
	Repository *repository `json:"repository"`
}

type deployment struct {
	ID          int64           `json:"id"`
	SHA         string          `json:"sha"`
	Ref         string          `json:"ref"`
	Task        string          `json:"task"`
	Environment string          `json:"environment"`
	Payload     json.RawMessage `json:"payload"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// payload returns the deployment's free-form payload as an object. GitHub
// sends it as an object, but deployments created through the old API may
// carry it as a JSON string holding the object, or as any other value,
// which Stride treats as no payload.
func (d *deployment) payload() map[string]any {
	raw := d.Payload
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

type deploymentStatus struct {
	ID        int64     `json:"id"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type deploymentEvent struct {
	Action           string            `json:"action"`
	Deployment       *deployment       `json:"deployment"`
	DeploymentStatus *deploymentStatus `json:"deployment_status"`
	Repository       *repository       `json:"repository"`
}

type workflowRun struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	HeadSHA      string    `json:"head_sha"`
	HeadBranch   string    `json:"head_branch"`
	Status       string    `json:"status"`
	Conclusion   string    `json:"conclusion"`
	RunAttempt   int       `json:"run_attempt"`
	RunStartedAt time.Time `json:"run_started_at"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

type workflowRunEvent struct {
	Action      string       `json:"action"`
	WorkflowRun *workflowRun `json:"workflow_run"`
	Workflow    *struct {
		Name string `json:"name"`
	} `json:"workflow"`
	Repository *repository `json:"repository"`
}

type release struct {
	ID              int64     `json:"id"`
	TagName         string    `json:"tag_name"`
	TargetCommitish string    `json:"target_commitish"`
	Draft           bool      `json:"draft"`
	Prerelease      bool      `json:"prerelease"`
	CreatedAt       time.Time `json:"created_at"`
	PublishedAt     time.Time `json:"published_at"`
}

type releaseEvent struct {
	Action     string      `json:"action"`
	Release    *release    `json:"release"`
	Repository *repository `json:"repository"`
}

// stringField returns m[key] when it is a non-blank string.
func stringField(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return strings.TrimSpace(s)
}

// boolField reports whether m[key] is true or the string "true".
func boolField(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}
