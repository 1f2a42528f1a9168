package github

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// translate runs one hand-made delivery through Translate and checks what
// every result must satisfy: events pass Validate, errors are either
// "ignored" or EINVALID.
func translate(t *testing.T, cfg Config, event, body string) ([]delivery.Event, error) {
	t.Helper()
	h := http.Header{}
	h.Set(HeaderEvent, event)
	events, err := New(cfg).Translate(h, []byte(body))
	if err != nil {
		if !errors.Is(err, ingest.ErrIgnored) && delivery.ErrorCode(err) != delivery.EINVALID {
			t.Fatalf("Translate error %v is neither ignored nor %s", err, delivery.EINVALID)
		}
		return nil, err
	}
	for _, e := range events {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %s does not pass Validate: %v", e.Key, err)
		}
	}
	return events, nil
}

func mustIgnore(t *testing.T, err error, reason string) {
	t.Helper()
	if !errors.Is(err, ingest.ErrIgnored) {
		t.Fatalf("error = %v, want ignored", err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("ignore reason %q does not mention %q", err, reason)
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const repoJSON = `"repository":{"full_name":"acme/shop","default_branch":"main"}`

func TestPush(t *testing.T) {
	const before = "1111111111111111111111111111111111111111"
	commits := `"commits":[
		{"id":"aaa","message":"Add cart\n\nLong text","timestamp":"2024-03-01T10:00:00+01:00","author":{"name":"Ada","username":"ada"}},
		{"id":"bbb","message":"Fix checkout, closes incident #42","timestamp":"2024-03-01T10:05:00Z","author":{"name":"Bob","email":"bob@example.com"}}]`
	tests := []struct {
		name    string
		body    string
		ignored string
		want    []delivery.Change
	}{
		{
			// The push proves aaa and the previous head are ancestors of
			// bbb, its head, and nothing of aaa's own history.
			name: "gives the head of a default-branch push the listed commits and the previous head as proven ancestors",
			body: `{"ref":"refs/heads/main","before":"` + before + `",` + commits + `,` + repoJSON + `}`,
			want: []delivery.Change{
				{Repository: "acme/shop", SHA: "aaa", Ancestry: delivery.AncestryUnknown, Author: "ada", CommitTime: ts("2024-03-01T09:00:00Z"), AuthorTime: ts("2024-03-01T09:00:00Z"), Title: "Add cart"},
				{Repository: "acme/shop", SHA: "bbb", Ancestry: delivery.AncestryProven, ProvenAncestors: []string{before, "aaa"}, Author: "Bob", CommitTime: ts("2024-03-01T10:05:00Z"), AuthorTime: ts("2024-03-01T10:05:00Z"), Title: "Fix checkout, closes incident #42", Incident: "github-issue-42"},
			},
		},
		{
			name: "proves nothing of a new branch's previous head",
			body: `{"ref":"refs/heads/main","created":true,"before":"` + zeroSHA + `",` + commits + `,` + repoJSON + `}`,
			want: []delivery.Change{
				{Repository: "acme/shop", SHA: "aaa", Ancestry: delivery.AncestryUnknown, Author: "ada", CommitTime: ts("2024-03-01T09:00:00Z"), AuthorTime: ts("2024-03-01T09:00:00Z"), Title: "Add cart"},
				{Repository: "acme/shop", SHA: "bbb", Ancestry: delivery.AncestryProven, ProvenAncestors: []string{"aaa"}, Author: "Bob", CommitTime: ts("2024-03-01T10:05:00Z"), AuthorTime: ts("2024-03-01T10:05:00Z"), Title: "Fix checkout, closes incident #42", Incident: "github-issue-42"},
			},
		},
		{
			name: "does not take the old head of a forced push for an ancestor",
			body: `{"ref":"refs/heads/main","forced":true,"before":"` + before + `",` + commits + `,` + repoJSON + `}`,
			want: []delivery.Change{
				{Repository: "acme/shop", SHA: "aaa", Ancestry: delivery.AncestryUnknown, Author: "ada", CommitTime: ts("2024-03-01T09:00:00Z"), AuthorTime: ts("2024-03-01T09:00:00Z"), Title: "Add cart"},
				{Repository: "acme/shop", SHA: "bbb", Ancestry: delivery.AncestryProven, ProvenAncestors: []string{"aaa"}, Author: "Bob", CommitTime: ts("2024-03-01T10:05:00Z"), AuthorTime: ts("2024-03-01T10:05:00Z"), Title: "Fix checkout, closes incident #42", Incident: "github-issue-42"},
			},
		},
		{
			// "after" names the head even when the list does not end on it
			// (a merge listed before the commit it merged, say).
			name: "takes the head from after, not from the list's order",
			body: `{"ref":"refs/heads/main","before":"` + before + `","after":"aaa",` + commits + `,` + repoJSON + `}`,
			want: []delivery.Change{
				{Repository: "acme/shop", SHA: "aaa", Ancestry: delivery.AncestryProven, ProvenAncestors: []string{before, "bbb"}, Author: "ada", CommitTime: ts("2024-03-01T09:00:00Z"), AuthorTime: ts("2024-03-01T09:00:00Z"), Title: "Add cart"},
				{Repository: "acme/shop", SHA: "bbb", Ancestry: delivery.AncestryUnknown, Author: "Bob", CommitTime: ts("2024-03-01T10:05:00Z"), AuthorTime: ts("2024-03-01T10:05:00Z"), Title: "Fix checkout, closes incident #42", Incident: "github-issue-42"},
			},
		},
		{
			name: "reports the head of a push that moved the branch to a known commit",
			body: `{"ref":"refs/heads/main","before":"` + before + `","after":"ccc","commits":[],"head_commit":{"id":"ccc","message":"x","timestamp":"2024-03-01T10:00:00Z"},` + repoJSON + `}`,
			want: []delivery.Change{{Repository: "acme/shop", SHA: "ccc", Ancestry: delivery.AncestryProven, ProvenAncestors: []string{before}, CommitTime: ts("2024-03-01T10:00:00Z"), AuthorTime: ts("2024-03-01T10:00:00Z"), Title: "x"}},
		},
		{
			name: "reads the default branch from master_branch in older payloads",
			body: `{"ref":"refs/heads/trunk","before":"` + zeroSHA + `","commits":[{"id":"ccc","message":"x","timestamp":"2024-03-01T10:00:00Z"}],"repository":{"full_name":"acme/old","master_branch":"trunk"}}`,
			want: []delivery.Change{{Repository: "acme/old", SHA: "ccc", Ancestry: delivery.AncestryProven, ProvenAncestors: []string{}, CommitTime: ts("2024-03-01T10:00:00Z"), AuthorTime: ts("2024-03-01T10:00:00Z"), Title: "x"}},
		},
		{
			name:    "ignores a push to another branch",
			body:    `{"ref":"refs/heads/feature/cart","before":"` + before + `",` + commits + `,` + repoJSON + `}`,
			ignored: "not to the default branch main",
		},
		{
			name:    "ignores a tag push",
			body:    `{"ref":"refs/tags/v1.0.0","before":"` + zeroSHA + `",` + commits + `,` + repoJSON + `}`,
			ignored: "not a branch push",
		},
		{
			name:    "ignores the deletion of the default branch",
			body:    `{"ref":"refs/heads/main","deleted":true,"before":"` + before + `","after":"` + zeroSHA + `","commits":[],` + repoJSON + `}`,
			ignored: "deletes branch main",
		},
		{
			name:    "ignores a push without commits",
			body:    `{"ref":"refs/heads/main","before":"` + before + `","commits":[],` + repoJSON + `}`,
			ignored: "no commits",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := translate(t, Config{}, "push", tt.body)
			if tt.ignored != "" {
				mustIgnore(t, err, tt.ignored)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []delivery.Change
			for _, e := range events {
				// A listed commit's key is its repository and sha; the
				// head's names what the push proved of it too.
				want := "github:push:" + e.Change.Repository + ":" + e.Change.SHA
				if e.Change.Ancestry == delivery.AncestryProven {
					want += ":head:" + cmp.Or(gjson(tt.body, "before"), zeroSHA)
					if strings.Contains(tt.body, `"forced":true`) {
						want += ":forced"
					}
				}
				if e.Key != want {
					t.Errorf("key %q is not derived from the repository and sha (and the proof), want %q", e.Key, want)
				}
				got = append(got, *e.Change)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("changes:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

const prJSON = `"pull_request":{"number":7,"state":"open","title":"Cart","user":{"login":"ada"},
	"created_at":"2024-03-01T09:00:00Z","updated_at":"2024-03-01T12:00:00Z","labels":[{"name":"feature"}]}`

func TestPullRequestReviews(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		body    string
		ignored string
		want    delivery.PullRequest
	}{
		{
			name:  "a review comment by another person starts the review",
			event: "pull_request_review",
			body:  `{"action":"submitted","review":{"id":1,"user":{"login":"bob"},"state":"commented","submitted_at":"2024-03-01T11:00:00Z"},` + prJSON + `,` + repoJSON + `}`,
			want: delivery.PullRequest{Repository: "acme/shop", Number: 7, Title: "Cart", Author: "ada",
				CreatedAt: ts("2024-03-01T09:00:00Z"), FirstReviewAt: ts("2024-03-01T11:00:00Z"), UpdatedAt: ts("2024-03-01T11:00:00Z")},
		},
		{
			name:  "an approval is also the approval time",
			event: "pull_request_review",
			body:  `{"action":"submitted","review":{"id":2,"user":{"login":"bob"},"state":"APPROVED","submitted_at":"2024-03-01T11:30:00Z"},` + prJSON + `,` + repoJSON + `}`,
			want: delivery.PullRequest{Repository: "acme/shop", Number: 7, Title: "Cart", Author: "ada",
				CreatedAt: ts("2024-03-01T09:00:00Z"), FirstReviewAt: ts("2024-03-01T11:30:00Z"), ApprovedAt: ts("2024-03-01T11:30:00Z"), UpdatedAt: ts("2024-03-01T11:30:00Z")},
		},
		{
			name:    "the author's own review is ignored",
			event:   "pull_request_review",
			body:    `{"action":"submitted","review":{"id":3,"user":{"login":"Ada"},"state":"commented","submitted_at":"2024-03-01T11:00:00Z"},` + prJSON + `,` + repoJSON + `}`,
			ignored: "reviewed their own pull request",
		},
		{
			name:    "a review by an unknown user is ignored, since it may be the author's",
			event:   "pull_request_review",
			body:    `{"action":"submitted","review":{"id":4,"user":null,"state":"approved","submitted_at":"2024-03-01T11:00:00Z"},` + prJSON + `,` + repoJSON + `}`,
			ignored: "unknown user",
		},
		{
			name:    "a dismissed review is ignored",
			event:   "pull_request_review",
			body:    `{"action":"dismissed","review":{"id":2,"user":{"login":"bob"},"state":"dismissed","submitted_at":"2024-03-01T11:30:00Z"},` + prJSON + `,` + repoJSON + `}`,
			ignored: `action "dismissed"`,
		},
		{
			name:  "a line comment by another person starts the review",
			event: "pull_request_review_comment",
			body:  `{"action":"created","comment":{"id":9,"user":{"login":"bob"},"created_at":"2024-03-01T10:00:00Z"},` + prJSON + `,` + repoJSON + `}`,
			want: delivery.PullRequest{Repository: "acme/shop", Number: 7, Title: "Cart", Author: "ada",
				CreatedAt: ts("2024-03-01T09:00:00Z"), FirstReviewAt: ts("2024-03-01T10:00:00Z"), UpdatedAt: ts("2024-03-01T10:00:00Z")},
		},
		{
			name:    "the author's own line comment is ignored",
			event:   "pull_request_review_comment",
			body:    `{"action":"created","comment":{"id":9,"user":{"login":"ada"},"created_at":"2024-03-01T10:00:00Z"},` + prJSON + `,` + repoJSON + `}`,
			ignored: "commented on their own pull request",
		},
		{
			name:  "a conversation comment on a pull request reports the comment count",
			event: "issue_comment",
			body: `{"action":"created","issue":{"number":7,"title":"Cart","user":{"login":"ada"},"comments":3,"created_at":"2024-03-01T09:00:00Z","pull_request":{"url":"x"}},
				"comment":{"id":5,"user":{"login":"ada"},"created_at":"2024-03-01T13:00:00Z"},` + repoJSON + `}`,
			want: delivery.PullRequest{Repository: "acme/shop", Number: 7, Title: "Cart", Author: "ada",
				CreatedAt: ts("2024-03-01T09:00:00Z"), Comments: 3, UpdatedAt: ts("2024-03-01T13:00:00Z")},
		},
		{
			name:    "a comment on a plain issue is ignored",
			event:   "issue_comment",
			body:    `{"action":"created","issue":{"number":8,"comments":1},"comment":{"id":6,"created_at":"2024-03-01T13:00:00Z"},` + repoJSON + `}`,
			ignored: "not on a pull request",
		},
		{
			name:    "a comment on an incident issue is ignored too",
			event:   "issue_comment",
			body:    `{"action":"created","issue":{"number":8,"labels":[{"name":"incident"}],"comments":1},"comment":{"id":6,"created_at":"2024-03-01T13:00:00Z"},` + repoJSON + `}`,
			ignored: "not on a pull request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := translate(t, Config{}, tt.event, tt.body)
			if tt.ignored != "" {
				mustIgnore(t, err, tt.ignored)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Fatalf("got %d events, want 1", len(events))
			}
			got := *events[0].PullRequest
			if got.Labels != nil {
				t.Errorf("a partial report sets Labels %v; want nil (not reported)", got.Labels)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pull request:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPullRequest(t *testing.T) {
	body := func(action, extra string) string {
		return `{"action":"` + action + `","number":7,"pull_request":{"number":7,"state":"closed","title":"Cart","user":{"login":"ada"},"merged":true,
			"created_at":"2024-03-01T09:00:00Z","updated_at":"2024-03-01T14:00:00Z","closed_at":"2024-03-01T14:00:00Z","merged_at":"2024-03-01T14:00:00Z",
			"merge_commit_sha":"mmm","additions":10,"deletions":2,"changed_files":3,"comments":4,"review_comments":5,"labels":[]}` + extra + `,` + repoJSON + `}`
	}
	events, err := translate(t, Config{}, "pull_request", body("closed", ""))
	if err != nil {
		t.Fatal(err)
	}
	want := delivery.PullRequest{Repository: "acme/shop", Number: 7, Title: "Cart", Author: "ada", State: delivery.PullRequestMerged,
		CreatedAt: ts("2024-03-01T09:00:00Z"), MergedAt: ts("2024-03-01T14:00:00Z"), ClosedAt: ts("2024-03-01T14:00:00Z"),
		Additions: 10, Deletions: 2, ChangedFiles: 3, Comments: 4, ReviewComments: 5, MergeSHA: "mmm", Labels: []string{}, UpdatedAt: ts("2024-03-01T14:00:00Z")}
	if got := *events[0].PullRequest; !reflect.DeepEqual(got, want) {
		t.Errorf("merged pull request:\n got %+v\nwant %+v", got, want)
	}

	t.Run("two label changes in one second get distinct keys", func(t *testing.T) {
		a, err := translate(t, Config{}, "pull_request", body("labeled", `,"label":{"name":"a"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, err := translate(t, Config{}, "pull_request", body("labeled", `,"label":{"name":"b"}`))
		if err != nil {
			t.Fatal(err)
		}
		if a[0].Key == b[0].Key {
			t.Errorf("both label events have the key %q", a[0].Key)
		}
	})
	t.Run("a redelivery gets the same key", func(t *testing.T) {
		a, _ := translate(t, Config{}, "pull_request", body("closed", ""))
		if a[0].Key != events[0].Key {
			t.Errorf("keys %q and %q differ", a[0].Key, events[0].Key)
		}
	})
	t.Run("other actions are ignored", func(t *testing.T) {
		_, err := translate(t, Config{}, "pull_request", body("assigned", ""))
		mustIgnore(t, err, `"assigned"`)
	})
}

func TestDeploymentStatus(t *testing.T) {
	mapping := delivery.Mapping{Services: []delivery.ServiceMapping{
		{Name: "web", Repositories: []string{"acme/shop"}, Paths: []string{"web/"}},
		{Name: "api", Repositories: []string{"acme/shop"}, Paths: []string{"api/"}},
		{Name: "billing", Repositories: []string{"acme/billing", "acme/deploy-config"}},
	}}
	status := func(state, repo, env, task, payload string) string {
		return `{"action":"created","deployment_status":{"id":99,"state":"` + state + `","created_at":"2024-03-01T10:10:00Z","updated_at":"2024-03-01T10:10:00Z"},
			"deployment":{"id":5,"sha":"abc1234","ref":"main","task":"` + task + `","environment":"` + env + `","payload":` + payload + `,"created_at":"2024-03-01T10:00:00Z"},
			"repository":{"full_name":"` + repo + `","default_branch":"main"}}`
	}
	base := delivery.Deployment{Service: "web", Environment: "production", ID: "5", Status: delivery.DeploymentSuccess,
		StartedAt: ts("2024-03-01T10:00:00Z"), FinishedAt: ts("2024-03-01T10:10:00Z"), SHA: "abc1234", Repository: "acme/shop", UpdatedAt: ts("2024-03-01T10:10:00Z")}
	with := func(f func(*delivery.Deployment)) delivery.Deployment { d := base; f(&d); return d }
	tests := []struct {
		name    string
		body    string
		ignored string
		want    []delivery.Deployment
	}{
		{
			name: "a success to an alias of production is a successful production deployment of each service of the repository",
			body: status("success", "acme/shop", "prod", "deploy", `{}`),
			want: []delivery.Deployment{base, with(func(d *delivery.Deployment) { d.Service = "api" })},
		},
		{
			name: "error is a failure",
			body: status("error", "acme/shop", "production", "deploy", `{"service":"web"}`),
			want: []delivery.Deployment{with(func(d *delivery.Deployment) { d.Status = delivery.DeploymentFailure })},
		},
		{
			name: "queued is in progress and not finished",
			body: status("queued", "acme/shop", "production", "deploy", `{"service":"web"}`),
			want: []delivery.Deployment{with(func(d *delivery.Deployment) { d.Status = delivery.DeploymentInProgress; d.FinishedAt = time.Time{} })},
		},
		{
			name: "the payload names the service, the ring and a hotfix",
			body: status("success", "acme/shop", "staging", "deploy", `{"service":"web","ring":"ring1","hotfix":true}`),
			want: []delivery.Deployment{with(func(d *delivery.Deployment) { d.Environment = "staging"; d.Ring = "ring1"; d.Hotfix = true })},
		},
		{
			name: "a hotfix or rollback task marks the deployment unplanned",
			body: status("success", "acme/shop", "production", "deploy:rollback", `{"service":"web"}`),
			want: []delivery.Deployment{with(func(d *delivery.Deployment) { d.Rollback = true })},
		},
		{
			name: "a config-repository bump ships the application sha of its payload",
			body: status("success", "acme/deploy-config", "production", "deploy", `{"app_sha":"def5678"}`),
			want: []delivery.Deployment{with(func(d *delivery.Deployment) { d.Service = "billing"; d.SHA = "def5678"; d.Repository = "acme/billing" })},
		},
		{
			name: "a payload sent as a JSON string is read too",
			body: status("success", "acme/deploy-config", "production", "deploy", `"{\"sha\":\"def5678\",\"repository\":\"acme/other\"}"`),
			want: []delivery.Deployment{with(func(d *delivery.Deployment) { d.Service = "billing"; d.SHA = "def5678"; d.Repository = "acme/other" })},
		},
		{
			name:    "an inactive status is ignored",
			body:    status("inactive", "acme/shop", "production", "deploy", `{}`),
			ignored: "inactive",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := translate(t, Config{Mapping: mapping}, "deployment_status", tt.body)
			if tt.ignored != "" {
				mustIgnore(t, err, tt.ignored)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []delivery.Deployment
			keys := map[string]bool{}
			for _, e := range events {
				got = append(got, *e.Deployment)
				keys[e.Key] = true
			}
			if len(keys) != len(events) {
				t.Errorf("the %d events share keys: %v", len(events), keys)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("deployments:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReleases(t *testing.T) {
	release := func(target string) string {
		return `{"action":"published","release":{"id":1,"tag_name":"v1.2.0","target_commitish":"` + target + `","published_at":"2024-03-02T08:00:00Z"},` + repoJSON + `}`
	}
	const sha = "0123456789abcdef0123456789abcdef01234567"
	t.Run("are ignored unless ReleasesAsDeployments", func(t *testing.T) {
		_, err := translate(t, Config{}, "release", release(sha))
		// The reason names the YAML key a user sets, never the Go field.
		mustIgnore(t, err, "releases_as_deployments is off")
		if strings.Contains(err.Error(), "ReleasesAsDeployments") {
			t.Errorf("reason %q names a Go field", err)
		}
	})
	t.Run("are successful production deployments with ReleasesAsDeployments", func(t *testing.T) {
		events, err := translate(t, Config{ReleasesAsDeployments: true}, "release", release(sha))
		if err != nil {
			t.Fatal(err)
		}
		want := delivery.Deployment{Service: "shop", Environment: "production", ID: "release-v1.2.0", Status: delivery.DeploymentSuccess,
			FinishedAt: ts("2024-03-02T08:00:00Z"), SHA: sha, Repository: "acme/shop", UpdatedAt: ts("2024-03-02T08:00:00Z")}
		if len(events) != 1 || !reflect.DeepEqual(*events[0].Deployment, want) {
			t.Errorf("events %+v, want one deployment %+v", events, want)
		}
	})
	t.Run("that name a branch rather than a commit are left to the tag push", func(t *testing.T) {
		_, err := translate(t, Config{ReleasesAsDeployments: true}, "release", release("main"))
		mustIgnore(t, err, "the push of tag v1.2.0 supplies the deployment")
	})
	t.Run("that are pre-releases are ignored", func(t *testing.T) {
		body := `{"action":"published","release":{"id":1,"tag_name":"v1.2.0","target_commitish":"` + sha + `","prerelease":true,"published_at":"2024-03-02T08:00:00Z"},` + repoJSON + `}`
		_, err := translate(t, Config{ReleasesAsDeployments: true}, "release", body)
		mustIgnore(t, err, "pre-release")
	})
	t.Run("of excluded tags are ignored", func(t *testing.T) {
		_, err := translate(t, Config{ReleasesAsDeployments: true, ExcludeTags: []string{"v1.2.*"}}, "release", release(sha))
		mustIgnore(t, err, `exclude_tags pattern "v1.2.*"`)
		_, err = translate(t, Config{ReleasesAsDeployments: true, DeployTags: []string{"release-*"}}, "release", release(sha))
		mustIgnore(t, err, "matches none of deploy_tags")
	})
}

// tagPushBody is the push of tag v1.2.0 of acme/shop: a lightweight tag
// (after is the commit) unless tagObject is given (an annotated tag, whose
// after is the tag object). extra is spliced into the repository object.
func tagPushBody(tag, tagObject, repoExtra string) string {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	after := commit
	if tagObject != "" {
		after = tagObject
	}
	return `{"ref":"refs/tags/` + tag + `","before":"` + zeroSHA + `","after":"` + after + `","created":true,"deleted":false,"forced":false,
		"base_ref":"refs/heads/main","commits":[],
		"head_commit":{"id":"` + commit + `","message":"Release","timestamp":"2024-03-01T18:00:00+01:00","author":{"name":"Ada","username":"ada"}},
		"repository":{"full_name":"acme/shop","default_branch":"main"` + repoExtra + `}}`
}

func TestTagPushes(t *testing.T) {
	const (
		commit    = "0123456789abcdef0123456789abcdef01234567"
		tagObject = "fedcba9876543210fedcba9876543210fedcba98"
		pushedAt  = `,"pushed_at":1709366400` // 2024-03-02T08:00:00Z
	)
	on := Config{ReleasesAsDeployments: true}
	dep := func(service string, at time.Time) delivery.Deployment {
		return delivery.Deployment{Service: service, Environment: "production", ID: "release-v1.2.0", Status: delivery.DeploymentSuccess,
			StartedAt: at, FinishedAt: at, SHA: commit, Repository: "acme/shop", UpdatedAt: at}
	}
	pushed := ts("2024-03-02T08:00:00Z")
	tests := []struct {
		name    string
		cfg     Config
		body    string
		ignored string
		want    []delivery.Deployment
		keys    []string
	}{
		{
			name: "a lightweight tag deploys the tagged commit when it was pushed",
			cfg:  on,
			body: tagPushBody("v1.2.0", "", pushedAt),
			want: []delivery.Deployment{dep("shop", pushed)},
			keys: []string{"github:tag:acme/shop:v1.2.0:shop"},
		},
		{
			name: "an annotated tag deploys head_commit, not the tag object in after",
			cfg:  on,
			body: tagPushBody("v1.2.0", tagObject, pushedAt),
			want: []delivery.Deployment{dep("shop", pushed)},
		},
		{
			name: "without pushed_at the commit's time is taken",
			cfg:  on,
			body: tagPushBody("v1.2.0", "", ""),
			want: []delivery.Deployment{dep("shop", ts("2024-03-01T17:00:00Z"))},
		},
		{
			name: "pushed_at may be a string, as in other payloads",
			cfg:  on,
			body: tagPushBody("v1.2.0", "", `,"pushed_at":"2024-03-02T08:00:00Z"`),
			want: []delivery.Deployment{dep("shop", pushed)},
		},
		{
			name: "one deployment per service the repository maps to",
			cfg: Config{ReleasesAsDeployments: true, Mapping: delivery.Mapping{Services: []delivery.ServiceMapping{
				{Name: "cart", Repositories: []string{"acme/shop"}}, {Name: "checkout", Repositories: []string{"acme/shop"}}}}},
			body: tagPushBody("v1.2.0", "", pushedAt),
			want: []delivery.Deployment{dep("cart", pushed), dep("checkout", pushed)},
			keys: []string{"github:tag:acme/shop:v1.2.0:cart", "github:tag:acme/shop:v1.2.0:checkout"},
		},
		{
			name: "a tag matching deploy_tags and no exclude_tags counts",
			cfg:  Config{ReleasesAsDeployments: true, DeployTags: []string{"v*"}, ExcludeTags: []string{"*-rc*"}},
			body: tagPushBody("v1.2.0", "", pushedAt),
			want: []delivery.Deployment{dep("shop", pushed)},
		},
		{
			name:    "is ignored when releases are not deployments",
			cfg:     Config{},
			body:    tagPushBody("v1.2.0", "", pushedAt),
			ignored: "releases_as_deployments is on",
		},
		{
			name: "the deletion of a tag is ignored",
			cfg:  on,
			body: `{"ref":"refs/tags/v1.2.0","before":"` + commit + `","after":"` + zeroSHA + `","created":false,"deleted":true,"commits":[],"head_commit":null,
				"repository":{"full_name":"acme/shop","default_branch":"main","pushed_at":1709366400}}`,
			ignored: "deletes tag v1.2.0",
		},
		{
			name:    "an excluded pre-release tag is ignored",
			cfg:     Config{ReleasesAsDeployments: true, ExcludeTags: []string{"*-rc*"}},
			body:    tagPushBody("v1.3.0-rc1", "", pushedAt),
			ignored: `exclude_tags pattern "*-rc*"`,
		},
		{
			name:    "a tag outside deploy_tags is ignored",
			cfg:     Config{ReleasesAsDeployments: true, DeployTags: []string{"v*"}},
			body:    tagPushBody("nightly-20240302", "", pushedAt),
			ignored: "matches none of deploy_tags",
		},
		{
			name:    "a tag push without a head commit is ignored",
			cfg:     on,
			body:    `{"ref":"refs/tags/v1.2.0","before":"` + zeroSHA + `","after":"` + commit + `","created":true,"commits":[],"head_commit":null,` + repoJSON + `}`,
			ignored: "names no commit",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := translate(t, tt.cfg, "push", tt.body)
			if tt.ignored != "" {
				mustIgnore(t, err, tt.ignored)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []delivery.Deployment
			var keys []string
			for _, e := range events {
				if e.Kind != delivery.KindDeployment || e.Deployment == nil {
					t.Fatalf("event %s is a %s, want a deployment", e.Key, e.Kind)
				}
				got = append(got, *e.Deployment)
				keys = append(keys, e.Key)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("deployments:\n got %+v\nwant %+v", got, tt.want)
			}
			if tt.keys != nil && !reflect.DeepEqual(keys, tt.keys) {
				t.Errorf("keys %v, want %v", keys, tt.keys)
			}
		})
	}
}

// TestReleaseAndTagPushMerge checks that the two reports of one release,
// the release event (targeting a sha) and the push of its tag, describe the
// same deployment and merge into the same state whichever arrives first.
func TestReleaseAndTagPushMerge(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	cfg := Config{ReleasesAsDeployments: true}
	for _, published := range []string{"2024-03-02T07:59:00Z", "2024-03-02T08:00:00Z", "2024-03-02T08:01:00Z"} {
		t.Run("published "+published, func(t *testing.T) {
			rel, err := translate(t, cfg, "release", `{"action":"published","release":{"id":1,"tag_name":"v1.2.0","target_commitish":"`+commit+`","published_at":"`+published+`"},`+repoJSON+`}`)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := translate(t, cfg, "push", tagPushBody("v1.2.0", "fedcba9876543210fedcba9876543210fedcba98", `,"pushed_at":1709366400`))
			if err != nil {
				t.Fatal(err)
			}
			if len(rel) != 1 || len(tag) != 1 {
				t.Fatalf("%d release and %d tag events, want one each", len(rel), len(tag))
			}
			a, b := *rel[0].Deployment, *tag[0].Deployment
			if a.Key() != b.Key() {
				t.Fatalf("release deployment %v and tag deployment %v are not one deployment", a.Key(), b.Key())
			}
			if rel[0].Key == tag[0].Key {
				t.Errorf("release and tag push share the idempotency key %s, so one would be dropped", rel[0].Key)
			}
			ab, ba := delivery.MergeDeployment(a, b), delivery.MergeDeployment(b, a)
			if !reflect.DeepEqual(ab, ba) {
				t.Errorf("merge depends on order:\nrelease+tag %+v\ntag+release %+v", ab, ba)
			}
			if ab.SHA != commit || ab.Status != delivery.DeploymentSuccess || ab.Environment != delivery.EnvironmentProduction ||
				ab.StartedAt.IsZero() || ab.FinishedAt.IsZero() {
				t.Errorf("merged deployment %+v, want a finished production success of %s", ab, commit)
			}
			if again := delivery.MergeDeployment(ab, b); !reflect.DeepEqual(again, ab) {
				t.Errorf("merging a report again changed the state: %+v", again)
			}
		})
	}
}

func TestIncidents(t *testing.T) {
	issue := func(action, labels, extra string) string {
		return `{"action":"` + action + `","issue":{"number":12,"title":"Checkout down","state":"open","labels":[` + labels + `],
			"created_at":"2024-03-01T10:00:00Z","updated_at":"2024-03-01T10:30:00Z"` + extra + `},` + repoJSON + `}`
	}
	three := 3
	tests := []struct {
		name     string
		cfg      Config
		body     string
		ignored  string
		severity int
		resolved time.Time
		service  string
		status   delivery.IncidentStatus
	}{
		{name: "sev0 is critical", body: issue("opened", `{"name":"incident"},{"name":"sev0"}`, ""), severity: 0, status: delivery.IncidentOpen},
		{name: "severity:1 is major", body: issue("labeled", `{"name":"incident"},{"name":"Severity: 1"}`, ""), severity: 1, status: delivery.IncidentOpen},
		{name: "P3 is low", body: issue("edited", `{"name":"incident"},{"name":"P3"}`, ""), severity: 3, status: delivery.IncidentOpen},
		{name: "the most severe of several labels wins", body: issue("opened", `{"name":"incident"},{"name":"sev-3"},{"name":"p1"}`, ""), severity: 1, status: delivery.IncidentOpen},
		{name: "no severity label leaves it unknown", body: issue("opened", `{"name":"incident"}`, ""), severity: delivery.SeverityUnknown, status: delivery.IncidentOpen},
		{name: "the default severity is configurable", cfg: Config{DefaultSeverity: &three}, body: issue("reopened", `{"name":"incident"}`, ""), severity: 3, status: delivery.IncidentOpen},
		{
			name: "reopening says open even when the payload lags", body: issue("reopened", `{"name":"incident"}`, `,"state":"closed","closed_at":"2024-03-01T10:20:00Z"`),
			severity: delivery.SeverityUnknown, status: delivery.IncidentOpen,
		},
		{name: "a service label names the service", body: issue("opened", `{"name":"incident"},{"name":"service:payments"}`, ""), severity: delivery.SeverityUnknown, service: "payments", status: delivery.IncidentOpen},
		{
			name: "closing resolves it", body: issue("closed", `{"name":"incident"}`, `,"state":"closed","closed_at":"2024-03-01T11:00:00Z"`),
			severity: delivery.SeverityUnknown, resolved: ts("2024-03-01T11:00:00Z"), status: delivery.IncidentResolved,
		},
		{name: "an issue without an incident label is ignored", body: issue("opened", `{"name":"bug"}`, ""), ignored: "not labelled as an incident"},
		{name: "other actions are ignored", body: issue("assigned", `{"name":"incident"}`, ""), ignored: `"assigned"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := translate(t, tt.cfg, "issues", tt.body)
			if tt.ignored != "" {
				mustIgnore(t, err, tt.ignored)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			service := tt.service
			if service == "" {
				service = "shop"
			}
			want := delivery.Incident{Service: service, ID: "github-issue-12", Title: "Checkout down", Severity: tt.severity,
				OpenedAt: ts("2024-03-01T10:00:00Z"), ResolvedAt: tt.resolved, Status: tt.status, UpdatedAt: ts("2024-03-01T10:30:00Z")}
			if tt.status != "" {
				want.StatusAt = want.UpdatedAt // the status dates from the report
			}
			if tt.severity != delivery.SeverityUnknown {
				want.SeverityAt = want.UpdatedAt
			}
			if len(events) != 1 || !reflect.DeepEqual(*events[0].Incident, want) {
				t.Errorf("events %+v, want one incident %+v", events, want)
			}
		})
	}
}

func TestWorkflowRun(t *testing.T) {
	runAttempt := func(attempt, action, status, conclusion string) string {
		return `{"action":"` + action + `","workflow_run":{"id":3,"name":"ci","head_sha":"abc","head_branch":"main","status":"` + status + `","conclusion":` + conclusion + `,
			"run_attempt":` + attempt + `,"run_started_at":"2024-03-01T10:00:00Z","created_at":"2024-03-01T09:59:00Z","updated_at":"2024-03-01T10:05:00Z"},` + repoJSON + `}`
	}
	run := func(action, status, conclusion string) string { return runAttempt("1", action, status, conclusion) }
	tests := []struct {
		name     string
		body     string
		status   delivery.BuildStatus
		finished bool
		attempt  int
	}{
		{name: "a re-run keeps its ID and says its attempt", body: runAttempt("3", "completed", "completed", `"success"`), status: delivery.BuildSuccess, finished: true, attempt: 3},
		{name: "a requested run is running", body: run("requested", "queued", "null"), status: delivery.BuildRunning},
		{name: "a run in progress is running", body: run("in_progress", "in_progress", "null"), status: delivery.BuildRunning},
		{name: "a successful run finished", body: run("completed", "completed", `"success"`), status: delivery.BuildSuccess, finished: true},
		{name: "a timed-out run failed", body: run("completed", "completed", `"timed_out"`), status: delivery.BuildFailure, finished: true},
		{name: "a cancelled run is cancelled", body: run("completed", "completed", `"cancelled"`), status: delivery.BuildCancelled, finished: true},
		{name: "a run waiting for approval has not finished", body: run("completed", "completed", `"action_required"`), status: delivery.BuildRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := translate(t, Config{}, "workflow_run", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			want := delivery.Build{Repository: "acme/shop", ID: "3", Name: "ci", SHA: "abc", Branch: "main", Status: tt.status,
				StartedAt: ts("2024-03-01T10:00:00Z"), UpdatedAt: ts("2024-03-01T10:05:00Z"), Attempt: max(tt.attempt, 1), DefaultBranch: "main"}
			if tt.finished {
				want.FinishedAt = ts("2024-03-01T10:05:00Z")
			}
			if len(events) != 1 || !reflect.DeepEqual(*events[0].Build, want) {
				t.Errorf("events %+v, want one build %+v", events, want)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name  string
		event string
		body  string
		names string // what the error must mention
	}{
		{name: "a body that is not JSON", event: "push", body: `{"ref":`, names: "not valid JSON"},
		{name: "a push without a repository", event: "push", body: `{"ref":"refs/heads/main","commits":[]}`, names: "repository.full_name"},
		{name: "a commit without a timestamp", event: "push", body: `{"ref":"refs/heads/main","commits":[{"id":"a"}],` + repoJSON + `}`, names: "commits[].timestamp"},
		{name: "a pull request without a number", event: "pull_request", body: `{"action":"opened","pull_request":{"state":"open"},` + repoJSON + `}`, names: "pull_request.number"},
		{name: "a pull request with a number of the wrong type", event: "pull_request", body: `{"action":"opened","pull_request":{"number":"7"},` + repoJSON + `}`, names: "decode"},
		{name: "a deployment status without a deployment", event: "deployment_status", body: `{"action":"created","deployment_status":{"state":"success"},` + repoJSON + `}`, names: "deployment"},
		{name: "a successful deployment without a sha", event: "deployment_status", body: `{"deployment_status":{"id":1,"state":"success","created_at":"2024-03-01T10:00:00Z"},"deployment":{"id":5,"environment":"production"},` + repoJSON + `}`, names: "deployment.sha"},
		{name: "a workflow run without an id", event: "workflow_run", body: `{"action":"completed","workflow_run":{"status":"completed"},` + repoJSON + `}`, names: "workflow_run.id"},
		{name: "a delivery without an event header", event: "", body: `{}`, names: HeaderEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := translate(t, Config{}, tt.event, tt.body)
			if delivery.ErrorCode(err) != delivery.EINVALID {
				t.Fatalf("error = %v, want %s", err, delivery.EINVALID)
			}
			if !strings.Contains(err.Error(), tt.names) {
				t.Errorf("error %q does not mention %q", err, tt.names)
			}
		})
	}
}

func TestIgnoredEvents(t *testing.T) {
	for _, event := range []string{"ping", "check_run", "check_suite", "create", "delete", "status", "workflow_job", "star"} {
		t.Run(event+" is ignored with a reason", func(t *testing.T) {
			_, err := translate(t, Config{}, event, `{}`)
			mustIgnore(t, err, event)
		})
	}
}

// TestPushToReleaseBranches takes the pushes of the branches
// release_branches names like the default branch's, matching as git does
// ("*" crosses "/"), and still ignores the others, saying how to take them.
func TestPushToReleaseBranches(t *testing.T) {
	const before = "1111111111111111111111111111111111111111"
	body := func(branch string) string {
		return `{"ref":"refs/heads/` + branch + `","before":"` + before + `","after":"ddd",
			"commits":[{"id":"ddd","message":"Backport fix","timestamp":"2024-03-01T10:00:00Z"}],` + repoJSON + `}`
	}
	cfg := Config{ReleaseBranches: []string{"release-*", "maint/*"}}
	for _, branch := range []string{"release-3.18", "maint/v2/lts", "main"} {
		t.Run("takes "+branch, func(t *testing.T) {
			events, err := translate(t, cfg, "push", body(branch))
			if err != nil {
				t.Fatal(err)
			}
			want := delivery.Change{Repository: "acme/shop", SHA: "ddd", Ancestry: delivery.AncestryProven, ProvenAncestors: []string{before},
				CommitTime: ts("2024-03-01T10:00:00Z"), AuthorTime: ts("2024-03-01T10:00:00Z"), Title: "Backport fix"}
			if len(events) != 1 || !reflect.DeepEqual(*events[0].Change, want) {
				t.Errorf("events %+v, want the one change %+v", events, want)
			}
		})
	}
	t.Run("ignores a branch no pattern names", func(t *testing.T) {
		_, err := translate(t, cfg, "push", body("feature/release-notes"))
		mustIgnore(t, err, "nor a branch of release_branches [release-* maint/*]")
	})
	t.Run("without release branches, says how to take them", func(t *testing.T) {
		_, err := translate(t, Config{}, "push", body("release-3.18"))
		mustIgnore(t, err, "name release branches in release_branches")
	})
	t.Run("the connector refuses a pattern git cannot read", func(t *testing.T) {
		_, err := Connector.New(&Config{Secret: "s", ReleaseBranches: []string{"release-[0-9"}}, delivery.Mapping{})
		var de *delivery.Error
		if !errors.As(err, &de) || de.Field != "release_branches" {
			t.Errorf("error %v, want one naming release_branches", err)
		}
	})
}

// gjson reads one top-level string field of a JSON body.
func gjson(body, field string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	s, _ := m[field].(string)
	return s
}
