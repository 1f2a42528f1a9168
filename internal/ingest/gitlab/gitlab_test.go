package gitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/conformance"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/golden"
	"github.com/stride-oss/stride/internal/ingest"
)

const testToken = "s3cret-token"

// payloadDir holds the project's own GitLab payloads: a made-up project in
// GitLab's payload shape, with the fields the connector reads, one file per
// event named like GitLab's documented examples.
var payloadDir = filepath.Join("testdata", "payloads")

// readPayloads returns the *.json payloads under dir by name. An empty
// folder fails the test: passing would hide that nothing was checked.
func readPayloads(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no GitLab payloads under %s", dir)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	return out
}

// fixtures returns the project's own payloads by name.
func fixtures(t testing.TB) map[string][]byte { return readPayloads(t, payloadDir) }

// vendorFixtures returns GitLab's documented payloads by name, or nil when
// ../shared/fixtures is not beside the repository.
func vendorFixtures(t testing.TB) map[string][]byte {
	t.Helper()
	dir, err := conformance.Lookup("gitlab")
	if err != nil {
		return nil
	}
	return readPayloads(t, dir)
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestVerifyFixtures(t *testing.T) {
	s := New(Config{Token: testToken})
	for name, body := range fixtures(t) {
		t.Run(name+" is accepted with the right token", func(t *testing.T) {
			if err := s.Verify(header("X-Gitlab-Token", testToken), body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
		t.Run(name+" is accepted with the right ?token= passed on as X-Stride-Token", func(t *testing.T) {
			if err := s.Verify(header("X-Stride-Token", testToken), body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
		for _, tc := range []struct {
			name string
			h    http.Header
		}{
			{"a wrong token", header("X-Gitlab-Token", "not-the-token")},
			{"a token that is a prefix of the right one", header("X-Gitlab-Token", testToken[:4])},
			{"no token", header()},
			{"a wrong ?token=", header("X-Stride-Token", "not-the-token")},
			{"a wrong header and a right ?token=", header("X-Gitlab-Token", "not-the-token", "X-Stride-Token", testToken)},
			{"the token in an unrelated header", header("Authorization", testToken)},
		} {
			t.Run(name+" is rejected with "+tc.name, func(t *testing.T) {
				err := s.Verify(tc.h, body)
				if code := delivery.ErrorCode(err); code != delivery.EUNAUTHORIZED {
					t.Fatalf("Verify = %v (code %q), want %s", err, code, delivery.EUNAUTHORIZED)
				}
			})
		}
	}
}

func TestVerifyWithoutConfiguredTokenRejectsEverything(t *testing.T) {
	s := New(Config{})
	for _, h := range []http.Header{header(), header("X-Gitlab-Token", "")} {
		if err := s.Verify(h, []byte(`{}`)); delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
			t.Fatalf("Verify(%v) = %v, want unauthorized", h, err)
		}
	}
}

func TestDeliveryID(t *testing.T) {
	s := New(Config{Token: testToken})
	body := []byte(`{"object_kind":"push"}`)
	tests := []struct {
		name string
		h    http.Header
		want string
	}{
		{"the event UUID is used when sent", header("X-Gitlab-Event-UUID", "uuid-1", "Idempotency-Key", "idem-1"), "uuid-1"},
		{"the idempotency key is used without a UUID", header("Idempotency-Key", "idem-1"), "idem-1"},
		{"the body digest is used without either", header(), "sha256:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.DeliveryID(tc.h, body)
			if !strings.HasPrefix(got, tc.want) || (tc.want == "sha256:" && len(got) != len("sha256:")+64) {
				t.Fatalf("DeliveryID = %q, want %q", got, tc.want)
			}
		})
	}
	if a, b := s.DeliveryID(header(), body), s.DeliveryID(header(), []byte(`{"object_kind":"note"}`)); a == b {
		t.Fatalf("two bodies share the digest %q", a)
	}
}

// pinned is what a payload translates to, as pinned under testdata/golden.
type pinned struct {
	Events  []delivery.Event `json:",omitempty"`
	Ignored string           `json:",omitempty"`
	Error   string           `json:",omitempty"`
}

// TestTranslateFixturesGolden pins what each of the project's own payloads
// translates to under testdata/golden/payloads.
func TestTranslateFixturesGolden(t *testing.T) {
	checkGoldenTranslations(t, fixtures(t), filepath.Join("testdata", "golden", "payloads"))
}

// TestConformanceTranslateGolden pins what each payload GitLab documents
// translates to under testdata/golden; it needs ../shared/fixtures.
func TestConformanceTranslateGolden(t *testing.T) {
	checkGoldenTranslations(t, readPayloads(t, conformance.Dir(t, "gitlab")), filepath.Join("testdata", "golden"))
}

func checkGoldenTranslations(t *testing.T, payloads map[string][]byte, goldenDir string) {
	s := New(Config{Token: testToken})
	for name, body := range payloads {
		t.Run(name, func(t *testing.T) {
			events, err := s.Translate(header(), body)
			var g pinned
			switch {
			case errors.Is(err, ingest.ErrIgnored):
				g.Ignored = err.Error()
			case err != nil:
				g.Error = err.Error()
			default:
				g.Events = events
				checkEvents(t, events)
			}
			golden.CheckJSON(t, filepath.Join(goldenDir, name+".json"), g)
		})
	}
}

// checkEvents asserts what every translated event must satisfy.
func checkEvents(t *testing.T, events []delivery.Event) {
	t.Helper()
	seen := map[string]bool{}
	for i, e := range events {
		if e.Source != Name {
			t.Errorf("event %d: Source = %q, want %q", i, e.Source, Name)
		}
		if seen[e.Key] {
			t.Errorf("event %d: key %q repeats", i, e.Key)
		}
		seen[e.Key] = true
		if err := e.Validate(); err != nil {
			t.Errorf("event %d does not validate: %v", i, err)
		}
	}
}

func TestTranslateIsDeterministic(t *testing.T) {
	s := New(Config{Token: testToken})
	all := fixtures(t)
	for name, body := range vendorFixtures(t) {
		all["vendor/"+name] = body
	}
	for name, body := range all {
		a, errA := s.Translate(header(), body)
		b, errB := s.Translate(header(), body)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) || (errA == nil) != (errB == nil) {
			t.Errorf("%s: two translations differ", name)
		}
	}
}

// fixture returns one of the project's payloads decoded into a map that
// tests edit, so each rule is tested on GitLab's payload shape with one
// thing changed.
func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	body, ok := fixtures(t)[name]
	if !ok {
		t.Fatalf("fixture %s is missing", name)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func translate(t *testing.T, s *Source, m map[string]any) ([]delivery.Event, error) {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Translate(header(), body)
	if err == nil {
		checkEvents(t, events)
	}
	return events, err
}

func attrs(m map[string]any) map[string]any { return m["object_attributes"].(map[string]any) }

func TestPush(t *testing.T) {
	s := New(Config{Token: testToken})
	const (
		before = "1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e"
		first  = "5a0b8c3d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b"
		after  = "e7f6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4"
	)
	// ancestry checks what the push proved of its two listed commits: the
	// first's history is unknown, the head (after) has proven ancestors.
	ancestry := func(t *testing.T, events []delivery.Event, proven []string) {
		t.Helper()
		if len(events) != 2 {
			t.Fatalf("got %d events, want 2", len(events))
		}
		c0, c1 := events[0].Change, events[1].Change
		if c0.SHA != first || c0.Ancestry != delivery.AncestryUnknown || c0.Parents != nil || c0.ProvenAncestors != nil {
			t.Errorf("first change %s: ancestry %q parents %v proven %v, want unknown and none", c0.SHA, c0.Ancestry, c0.Parents, c0.ProvenAncestors)
		}
		if c1.SHA != after || c1.Ancestry != delivery.AncestryProven || c1.Parents != nil || !slices.Equal(c1.ProvenAncestors, proven) {
			t.Errorf("head %s: ancestry %q parents %v proven %v, want proven %v", c1.SHA, c1.Ancestry, c1.Parents, c1.ProvenAncestors, proven)
		}
	}
	t.Run("the head's proven ancestors are the listed commits and before, and nothing is chained", func(t *testing.T) {
		m := fixture(t, "push")
		m["total_commits_count"] = 2
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		ancestry(t, events, []string{before, first})
		if c0 := events[0].Change; c0.Repository != "tidewater/berth-api" {
			t.Errorf("first change = %s@%s", c0.Repository, c0.SHA)
		}
		if got := events[1].Change.CommitTime.Format("2006-01-02T15:04:05Z07:00"); got != "2026-03-04T09:42:09Z" {
			t.Errorf("commit time = %s, want the timestamp in UTC", got)
		}
	})
	t.Run("a truncated commit list proves what it lists", func(t *testing.T) {
		events, err := translate(t, s, fixture(t, "push")) // total_commits_count 4, two listed
		if err != nil {
			t.Fatal(err)
		}
		ancestry(t, events, []string{before, first})
	})
	t.Run("a new branch proves nothing of before", func(t *testing.T) {
		m := fixture(t, "push")
		m["total_commits_count"] = 2
		m["before"] = zeroSHA
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		ancestry(t, events, []string{first})
	})
	t.Run("pushes to release branches are taken, matched as git matches", func(t *testing.T) {
		rs := New(Config{Token: testToken, ReleaseBranches: []string{"release-*", "stable/*"}})
		for _, ref := range []string{"refs/heads/release-3.18", "refs/heads/stable/v2/lts", "refs/heads/main"} {
			m := fixture(t, "push")
			m["ref"] = ref
			events, err := translate(t, rs, m)
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			ancestry(t, events, []string{before, first})
		}
		m := fixture(t, "push")
		m["ref"] = "refs/heads/feature/release-notes"
		_, err := translate(t, rs, m)
		if !errors.Is(err, ingest.ErrIgnored) || !strings.Contains(err.Error(), "nor a branch of release_branches [release-* stable/*]") {
			t.Errorf("push to a feature branch: %v, want ignored naming release_branches", err)
		}
		if _, err := Connector.New(&Config{Token: "t", ReleaseBranches: []string{"release-[0-9"}}, delivery.Mapping{}); err == nil || !strings.Contains(err.Error(), "release_branches") {
			t.Errorf("a malformed pattern: %v, want an error naming release_branches", err)
		}
	})
	ignored := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"a push to another branch is ignored", func(m map[string]any) { m["ref"] = "refs/heads/feature" }},
		{"a branch deletion is ignored", func(m map[string]any) { m["after"] = zeroSHA; m["commits"] = []any{} }},
		{"a push without commits is ignored", func(m map[string]any) { m["commits"] = []any{} }},
	}
	for _, tc := range ignored {
		t.Run(tc.name, func(t *testing.T) {
			m := fixture(t, "push")
			tc.edit(m)
			if _, err := translate(t, s, m); !errors.Is(err, ingest.ErrIgnored) {
				t.Fatalf("err = %v, want ErrIgnored", err)
			}
		})
	}
	t.Run("a commit without a timestamp is malformed", func(t *testing.T) {
		m := fixture(t, "push")
		m["commits"].([]any)[0].(map[string]any)["timestamp"] = nil
		if _, err := translate(t, s, m); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

func TestMergeRequest(t *testing.T) {
	s := New(Config{Token: testToken})
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		check func(t *testing.T, pr *delivery.PullRequest)
	}{
		{
			name: "an opened merge request is open with its labels and author id",
			edit: func(m map[string]any) {},
			check: func(t *testing.T, pr *delivery.PullRequest) {
				if pr.State != delivery.PullRequestOpen || pr.Author != "212" || pr.Number != 17 || pr.Repository != "tidewater/berth-api" {
					t.Errorf("pr = %+v", pr)
				}
				if len(pr.Labels) != 1 || pr.Labels[0] != "backend" {
					t.Errorf("labels = %v", pr.Labels)
				}
			},
		},
		{
			name: "a merge action without merged_at is merged at updated_at",
			edit: func(m map[string]any) {
				attrs(m)["action"] = "merge"
				attrs(m)["state"] = "merged"
				attrs(m)["updated_at"] = "2026-03-04T10:00:00Z"
				attrs(m)["merge_commit_sha"] = "0123456789abcdef0123456789abcdef01234567"
			},
			check: func(t *testing.T, pr *delivery.PullRequest) {
				if pr.State != delivery.PullRequestMerged || pr.MergedAt.Format("15:04") != "10:00" || pr.MergeSHA == "" {
					t.Errorf("pr = %+v", pr)
				}
			},
		},
		{
			name: "merged_at wins over updated_at",
			edit: func(m map[string]any) {
				attrs(m)["action"] = "merge"
				attrs(m)["merged_at"] = "2026-03-04 09:00:00 UTC"
				attrs(m)["updated_at"] = "2026-03-04T10:00:00Z"
			},
			check: func(t *testing.T, pr *delivery.PullRequest) {
				if pr.MergedAt.Format("15:04") != "09:00" {
					t.Errorf("merged at %v, want 09:00", pr.MergedAt)
				}
			},
		},
		{
			name: "a close action is closed at updated_at",
			edit: func(m map[string]any) {
				attrs(m)["action"] = "close"
				attrs(m)["state"] = "closed"
				attrs(m)["updated_at"] = "2026-03-05T10:00:00Z"
			},
			check: func(t *testing.T, pr *delivery.PullRequest) {
				if pr.State != delivery.PullRequestClosed || pr.ClosedAt.Day() != 5 || !pr.MergedAt.IsZero() {
					t.Errorf("pr = %+v", pr)
				}
			},
		},
		{
			name: "leaving draft marks the merge request ready",
			edit: func(m map[string]any) {
				m["changes"].(map[string]any)["draft"] = map[string]any{"previous": true, "current": false}
			},
			check: func(t *testing.T, pr *delivery.PullRequest) {
				if !pr.ReadyAt.Equal(pr.UpdatedAt) || pr.ReadyAt.IsZero() {
					t.Errorf("ready at %v, want %v", pr.ReadyAt, pr.UpdatedAt)
				}
			},
		},
		{
			name: "an approval by another user is the first review",
			edit: func(m map[string]any) { attrs(m)["action"] = "approved" },
			check: func(t *testing.T, pr *delivery.PullRequest) {
				if pr.ApprovedAt.IsZero() || pr.FirstReviewAt.IsZero() {
					t.Errorf("pr = %+v", pr)
				}
			},
		},
		{
			name: "changes_count gives the changed files, 1000+ as 1000",
			edit: func(m map[string]any) { attrs(m)["changes_count"] = "1000+" },
			check: func(t *testing.T, pr *delivery.PullRequest) {
				if pr.ChangedFiles != 1000 {
					t.Errorf("changed files = %d", pr.ChangedFiles)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fixture(t, "merge_request")
			tc.edit(m)
			events, err := translate(t, s, m)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, events[0].PullRequest)
		})
	}
	t.Run("an approval by the author is not a review", func(t *testing.T) {
		m := fixture(t, "merge_request")
		attrs(m)["action"] = "approved"
		m["user"].(map[string]any)["id"] = 212
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		if pr := events[0].PullRequest; !pr.FirstReviewAt.IsZero() {
			t.Errorf("first review at %v, want none", pr.FirstReviewAt)
		}
	})
}

func TestNote(t *testing.T) {
	s := New(Config{Token: testToken})
	t.Run("a note by another user is the first review, and a partial report", func(t *testing.T) {
		events, err := translate(t, s, fixture(t, "note_merge_request"))
		if err != nil {
			t.Fatal(err)
		}
		pr := events[0].PullRequest
		if pr.FirstReviewAt.Format("2006-01-02 15:04:05") != "2026-03-03 17:30:02" {
			t.Errorf("first review at %v", pr.FirstReviewAt)
		}
		if !pr.UpdatedAt.IsZero() || pr.State != "" {
			t.Errorf("a note must not carry state or UpdatedAt: %+v", pr)
		}
	})
	ignored := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"a note by the merge request's author is ignored", func(m map[string]any) { attrs(m)["author_id"] = 212 }},
		{"a note on a commit is ignored", func(m map[string]any) { attrs(m)["noteable_type"] = "Commit" }},
		{"a system note is ignored", func(m map[string]any) { attrs(m)["system"] = true }},
	}
	for _, tc := range ignored {
		t.Run(tc.name, func(t *testing.T) {
			m := fixture(t, "note_merge_request")
			tc.edit(m)
			if _, err := translate(t, s, m); !errors.Is(err, ingest.ErrIgnored) {
				t.Fatalf("err = %v, want ErrIgnored", err)
			}
		})
	}
}

func TestPipeline(t *testing.T) {
	s := New(Config{Token: testToken})
	for status, want := range map[string]delivery.BuildStatus{
		"running":  delivery.BuildRunning,
		"pending":  delivery.BuildRunning,
		"success":  delivery.BuildSuccess,
		"failed":   delivery.BuildFailure,
		"canceled": delivery.BuildCancelled,
	} {
		t.Run("pipeline status "+status+" is "+string(want), func(t *testing.T) {
			m := fixture(t, "pipeline")
			attrs(m)["status"] = status
			events, err := translate(t, s, m)
			if err != nil {
				t.Fatal(err)
			}
			if b := events[0].Build; b.Status != want || b.Branch != "main" || b.ID != "9120" {
				t.Errorf("build = %+v", b)
			}
		})
	}
	t.Run("an unknown status is malformed", func(t *testing.T) {
		m := fixture(t, "pipeline")
		attrs(m)["status"] = "exploded"
		if _, err := translate(t, s, m); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

func TestDeployment(t *testing.T) {
	s := New(Config{Token: testToken, Mapping: delivery.Mapping{
		Services:               []delivery.ServiceMapping{{Name: "berth", Repositories: []string{"tidewater/berth-api"}}},
		ProductionEnvironments: []string{"prd"},
	}})
	tests := []struct {
		name, status, env string
		want              delivery.DeploymentStatus
		wantEnv           string
	}{
		{"a success in an alias of production is a production success", "success", "prd", delivery.DeploymentSuccess, "production"},
		{"a failure is a failure", "failed", "staging", delivery.DeploymentFailure, "staging"},
		{"running is in progress", "running", "staging", delivery.DeploymentInProgress, "staging"},
		{"created is pending", "created", "staging", delivery.DeploymentPending, "staging"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fixture(t, "deployment")
			m["status"], m["environment"] = tc.status, tc.env
			events, err := translate(t, s, m)
			if err != nil {
				t.Fatal(err)
			}
			d := events[0].Deployment
			if d.Status != tc.want || d.Environment != tc.wantEnv || d.Service != "berth" || d.ID != "388" {
				t.Errorf("deployment = %+v", d)
			}
			if d.SHA != "e7f6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4" {
				t.Errorf("sha = %q, want the full sha of commit_url", d.SHA)
			}
			if tc.want.Terminal() && d.FinishedAt.Format("15:04") != "10:10" {
				t.Errorf("finished at %v, want status_changed_at in UTC", d.FinishedAt)
			}
		})
	}
	t.Run("a cancelled deployment is ignored", func(t *testing.T) {
		m := fixture(t, "deployment")
		m["status"] = "canceled"
		if _, err := translate(t, s, m); !errors.Is(err, ingest.ErrIgnored) {
			t.Fatalf("err = %v, want ErrIgnored", err)
		}
	})
	t.Run("a success without any sha is malformed", func(t *testing.T) {
		m := fixture(t, "deployment")
		delete(m, "short_sha")
		delete(m, "commit_url")
		if _, err := translate(t, s, m); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

func TestIssue(t *testing.T) {
	s := New(Config{Token: testToken, Mapping: delivery.Mapping{IncidentLabels: []string{"outage"}}})
	plain := func(m map[string]any) {
		delete(attrs(m), "escalation_status")
		delete(attrs(m), "escalation_policy")
		delete(attrs(m), "severity")
	}
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		wantSev int
	}{
		{"an escalated issue is an incident with its severity field", func(m map[string]any) {}, delivery.SeverityMajor},
		{"issue_type incident marks an incident", func(m map[string]any) { plain(m); attrs(m)["issue_type"] = "incident" }, defaultSeverity},
		{"type INCIDENT marks an incident", func(m map[string]any) { plain(m); attrs(m)["type"] = "INCIDENT" }, defaultSeverity},
		{"a configured incident label marks an incident", func(m map[string]any) {
			plain(m)
			m["labels"] = []any{map[string]any{"title": "Outage"}}
		}, defaultSeverity},
		{"a severity label wins over the severity field", func(m map[string]any) {
			m["labels"] = []any{map[string]any{"title": "severity::1"}}
		}, delivery.SeverityCritical},
		{"an S4 label is low", func(m map[string]any) {
			m["labels"] = []any{map[string]any{"title": "S4"}}
		}, delivery.SeverityLow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fixture(t, "issue")
			tc.edit(m)
			events, err := translate(t, s, m)
			if err != nil {
				t.Fatal(err)
			}
			in := events[0].Incident
			if in.Severity != tc.wantSev || in.Service != "berth-api" || in.ID != "tidewater/berth-api#64" {
				t.Errorf("incident = %+v", in)
			}
			if !in.ResolvedAt.IsZero() {
				t.Errorf("an open incident is resolved at %v", in.ResolvedAt)
			}
		})
	}
	t.Run("a closed incident is resolved at closed_at", func(t *testing.T) {
		m := fixture(t, "issue")
		attrs(m)["state"] = "closed"
		attrs(m)["action"] = "close"
		attrs(m)["closed_at"] = "2026-03-04T19:00:00Z"
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := events[0].Incident.ResolvedAt.Format("15:04"); got != "19:00" {
			t.Errorf("resolved at %s", got)
		}
	})
	t.Run("a plain issue is ignored", func(t *testing.T) {
		m := fixture(t, "issue")
		plain(m)
		if _, err := translate(t, s, m); !errors.Is(err, ingest.ErrIgnored) {
			t.Fatalf("err = %v, want ErrIgnored", err)
		}
	})
}

func TestTranslateRejectsMalformedBodies(t *testing.T) {
	s := New(Config{Token: testToken})
	tests := []struct {
		name string
		h    http.Header
		body string
	}{
		{"a body that is not JSON", header(), `{"object_kind":`},
		{"a body without object_kind or event header", header(), `{}`},
		{"a time GitLab does not write", header(), `{"object_kind":"deployment","status":"success","deployment_id":1,"status_changed_at":"yesterday"}`},
		{"a merge request without a project path", header(), `{"object_kind":"merge_request","object_attributes":{"iid":1}}`},
		{"a merge request with number 0", header(), `{"object_kind":"merge_request","project":{"path_with_namespace":"a/b"},"object_attributes":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is malformed", func(t *testing.T) {
			_, err := s.Translate(tc.h, []byte(tc.body))
			if delivery.ErrorCode(err) != delivery.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
	t.Run("the event header stands in for a missing object_kind", func(t *testing.T) {
		_, err := s.Translate(header("X-Gitlab-Event", "Wiki Page Hook"), []byte(`{}`))
		if !errors.Is(err, ingest.ErrIgnored) {
			t.Fatalf("err = %v, want ErrIgnored", err)
		}
	})
}

func FuzzTranslate(f *testing.F) {
	for _, body := range fixtures(f) {
		f.Add(body)
	}
	for _, body := range vendorFixtures(f) {
		f.Add(body)
	}
	s := New(Config{Token: testToken})
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := s.Translate(header(), body)
		if err != nil {
			if !errors.Is(err, ingest.ErrIgnored) && delivery.ErrorCode(err) != delivery.EINVALID {
				t.Fatalf("error is neither ignored nor invalid: %v", err)
			}
			return
		}
		if len(events) == 0 {
			t.Fatal("no events and no error")
		}
		checkEvents(t, events)
	})
}
