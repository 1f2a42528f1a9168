package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
