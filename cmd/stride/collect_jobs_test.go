package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestCollectSectionBecomesJobs loads a collect: section and runs the
// GitHub job it makes once, against a local API that refuses the token: the
// run fails naming the repository, after asking the configured API URL.
func TestCollectSectionBecomesJobs(t *testing.T) {
	var asked atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.Header.Get("Authorization") != "Bearer ghp_from_config" {
			t.Errorf("the collector sent %q, want the configured token", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials"}`))
	}))
	defer api.Close()
	path := filepath.Join(t.TempDir(), "stride.yaml")
	body := "collect:\n  github: {repos: [acme/api], api_url: " + api.URL + ", token: ghp_from_config, every: 15m}\n" +
		"  jira: {projects: [PAY], url: " + api.URL + "}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	tasks, err := collectTasks(cfg, db, intake.New(db, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || tasks[0].Name != "collect-github" || tasks[0].Every != 15*time.Minute ||
		tasks[1].Name != "collect-jira" || tasks[1].Every != config.DefaultCollectEvery {
		t.Fatalf("tasks %+v, want collect-github every 15m and collect-jira every hour", tasks)
	}
	err = tasks[0].Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "acme/api") || asked.Load() == 0 {
		t.Fatalf("run against a refusing API: %v after %d requests, want a failure naming acme/api", err, asked.Load())
	}
}

// TestCollectConcurrencyFromConfig runs the GitLab job of a collect:
// section against a server that records which project each request is
// for. With concurrency 2, the first project's first answer waits until
// the second project has been asked for: read one at a time, that never
// happens, and the server answers after a bound that only a failing run
// reaches. With concurrency 1 every request of the second project comes
// after every request of the first.
func TestCollectConcurrencyFromConfig(t *testing.T) {
	for _, tc := range []struct {
		concurrency  int
		wantTogether bool
	}{{2, true}, {1, false}} {
		t.Run("concurrency "+strconv.Itoa(tc.concurrency), func(t *testing.T) {
			secondAsked := make(chan struct{})
			var once sync.Once
			var mu sync.Mutex
			var order []string
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p := r.URL.EscapedPath()
				project := strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(p, "/projects/"), "/", 2)[0], "acme%2F")
				mu.Lock()
				order = append(order, project)
				mu.Unlock()
				switch {
				case p == "/projects/acme%2Fone" && tc.concurrency > 1:
					select {
					case <-secondAsked:
					case <-time.After(10 * time.Second):
						t.Errorf("the second project was not asked for while the first was read")
					}
				case project == "two":
					once.Do(func() { close(secondAsked) })
				}
				if p == "/projects/acme%2Fone" || p == "/projects/acme%2Ftwo" {
					w.Write([]byte(`{"default_branch":""}`))
					return
				}
				w.Write([]byte(`[]`))
			}))
			defer api.Close()
			path := filepath.Join(t.TempDir(), "stride.yaml")
			body := "collect:\n  gitlab: {projects: [acme/one, acme/two], api_url: " + api.URL + ", token: t, concurrency: " + strconv.Itoa(tc.concurrency) + "}\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path, false)
			if err != nil {
				t.Fatal(err)
			}
			db := storetest.SQLite(t)
			tasks, err := collectTasks(cfg, db, intake.New(db, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tasks[0].Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			// together: a request of the first project after one of the
			// second.
			together, seenTwo := false, false
			for _, p := range order {
				seenTwo = seenTwo || p == "two"
				together = together || (seenTwo && p == "one")
			}
			if together != tc.wantTogether || !seenTwo {
				t.Errorf("requests by project %v: read together %t, want %t", order, together, tc.wantTogether)
			}
		})
	}
}

// TestCollectConcurrencyFlag: --concurrency is bounded as stride.yaml's is.
func TestCollectConcurrencyFlag(t *testing.T) {
	t.Setenv("GITLAB_TOKEN", "tok")
	t.Setenv("GITHUB_TOKEN", "tok")
	for _, args := range [][]string{
		{"collect", "gitlab", "--project", "acme/shop", "--concurrency", "0"},
		{"collect", "github", "--repo", "acme/shop", "--concurrency", "17"},
	} {
		code, _, stderr := stride(t, args...)
		if code != 2 || !strings.Contains(stderr, "--concurrency: "+args[len(args)-1]+" is not between 1 and 16") {
			t.Errorf("%v: exit %d, %q; want 2 naming --concurrency", args, code, stderr)
		}
	}
}
