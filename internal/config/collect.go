package config

import (
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Collect is the collect: section of stride.yaml: the API collectors that
// `stride serve` runs as jobs, each every period, reading only what changed
// since its last run (the same as `stride collect <vendor>` by hand).
// Tokens are usually "${VAR}" references; when one is left out, the
// variable the command line reads ($GITHUB_TOKEN, ...) is used.
type Collect struct {
	GitHub *struct {
		Repos  []string      `yaml:"repos"`
		Orgs   []string      `yaml:"orgs"`
		APIURL string        `yaml:"api_url"`
		Token  string        `yaml:"token"`
		Every  time.Duration `yaml:"every"`
		// Concurrency is how many repositories are read at once
		// (default DefaultCollectConcurrency).
		Concurrency int `yaml:"concurrency"`
	} `yaml:"github"`
	GitLab *struct {
		Projects []string      `yaml:"projects"`
		APIURL   string        `yaml:"api_url"`
		Token    string        `yaml:"token"`
		Every    time.Duration `yaml:"every"`
		// Concurrency is how many projects are read at once (default
		// DefaultCollectConcurrency).
		Concurrency int `yaml:"concurrency"`
	} `yaml:"gitlab"`
	PagerDuty *struct {
		Services []string      `yaml:"services"`
		APIURL   string        `yaml:"api_url"`
		Token    string        `yaml:"token"`
		Every    time.Duration `yaml:"every"`
	} `yaml:"pagerduty"`
	Jira *struct {
		Projects []string      `yaml:"projects"`
		URL      string        `yaml:"url"`
		Email    string        `yaml:"email"`
		Token    string        `yaml:"token"`
		Every    time.Duration `yaml:"every"`
	} `yaml:"jira"`
}

// DefaultCollectEvery is how often a collector runs when its section names
// no period: often enough that a backfilled history catches up within the
// hour, rarely enough that an unchanged repository costs a handful of
// conditional requests an hour.
const DefaultCollectEvery = time.Hour

// MinCollectEvery bounds the period from below: vendors' rate limits are
// per hour, and a collector that ran every few seconds would spend them.
const MinCollectEvery = time.Minute

// check refuses a collect: section that could not work, naming the
// setting.
func (c Collect) check() error {
	type entry struct {
		name        string
		every       time.Duration
		scopes      int
		what        string
		concurrency int
	}
	var entries []entry
	if g := c.GitHub; g != nil {
		entries = append(entries, entry{"github", g.Every, len(g.Repos) + len(g.Orgs), "repos or orgs", g.Concurrency})
	}
	if g := c.GitLab; g != nil {
		entries = append(entries, entry{"gitlab", g.Every, len(g.Projects), "projects", g.Concurrency})
	}
	if p := c.PagerDuty; p != nil {
		entries = append(entries, entry{"pagerduty", p.Every, len(p.Services), "services", 0})
	}
	if j := c.Jira; j != nil {
		if j.URL == "" {
			return delivery.FieldError("collect.jira.url", "is required (https://TEAM.atlassian.net)")
		}
		entries = append(entries, entry{"jira", j.Every, len(j.Projects), "projects", 0})
	}
	for _, e := range entries {
		if e.scopes == 0 {
			return delivery.FieldError("collect."+e.name, "names no %s to collect", e.what)
		}
		if e.every != 0 && e.every < MinCollectEvery {
			return delivery.FieldError("collect."+e.name+".every", "%s is below the least period, %s", e.every, MinCollectEvery)
		}
		if e.concurrency != 0 {
			if err := CheckCollectConcurrency("collect."+e.name+".concurrency", e.concurrency); err != nil {
				return err
			}
		}
	}
	return nil
}

// DefaultCollectConcurrency is how many scopes (repositories, projects) a
// collector reads at once when neither --concurrency nor stride.yaml says.
const DefaultCollectConcurrency = 4

// MaxCollectConcurrency bounds it: the client lets two requests per scope
// be in flight, and GitHub's secondary rate limit, like GitLab.com's,
// answers many concurrent requests of one token with 403s and 429s, so
// more scopes at once read no faster.
const MaxCollectConcurrency = 16

// CheckCollectConcurrency refuses a concurrency outside 1 to
// MaxCollectConcurrency, naming field (a setting or a flag).
func CheckCollectConcurrency(field string, n int) error {
	if n < 1 || n > MaxCollectConcurrency {
		return delivery.FieldError(field, "%d is not between 1 and %d", n, MaxCollectConcurrency)
	}
	return nil
}

// CollectConcurrency is a collector's concurrency: n, or
// DefaultCollectConcurrency.
func CollectConcurrency(n int) int {
	if n == 0 {
		return DefaultCollectConcurrency
	}
	return n
}

// CollectEvery is a collector's period: every, or DefaultCollectEvery.
func CollectEvery(every time.Duration) time.Duration {
	if every == 0 {
		return DefaultCollectEvery
	}
	return every
}

// String names the collectors configured, for a log line.
func (c Collect) String() string {
	return fmt.Sprintf("github=%t gitlab=%t pagerduty=%t jira=%t", c.GitHub != nil, c.GitLab != nil, c.PagerDuty != nil, c.Jira != nil)
}
