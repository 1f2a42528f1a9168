// Package git backfills a service's history from a local git repository:
// every commit becomes a change and every release tag a successful production
// deployment, so that `stride import git` shows lead time and deployment
// frequency within a minute of installing Stride, before any webhook has
// arrived.
//
// The repository is read only through the git command, with one `git log`
// pass over all commits and one `git for-each-ref` call over the tags, so the
// cost grows with the size of the history and not with the number of
// processes started.
package git

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Source is the Event.Source of every event this package makes.
const Source = "git"

// DefaultBatchSize is the number of events sent to the sink in one call when
// Options.BatchSize is not set. Up to three batches are alive at once (one
// being read, one queued, one being written), so it bounds the import's
// memory: at 5,000 the import of etcd (29,000 commits) peaked at 55 MiB,
// at 1,000 at 45 MiB, with the same CPU; a transaction and its fsync per
// 1,000 commits costs little beside writing them.
const DefaultBatchSize = 1000

// Options say which repository to read and how its tags map to deployments.
type Options struct {
	// Dir is the path of the repository (a work tree or a bare repository).
	Dir string
	// Service is the service whose deployments the tags are.
	Service string
	// Repository is the repository name stored on changes and deployments;
	// it must be the name the webhooks of the repository use, so that
	// imported changes and live deployments meet. Default: Service.
	Repository string
	// DeployTags are patterns of the tags that were production deployments,
	// written and matched as for `git tag -l` (delivery.MatchTag): "*"
	// crosses "/", so "v*" takes v1.2.0 but not sdk/v1.2.0, and "*-rc*"
	// takes v1.2.0-rc1 and sdk/v1.2.0-rc.1 alike. An entry may be a
	// comma-separated list. Default: every tag.
	DeployTags []string
	// ExcludeTags are patterns of tags that match DeployTags but were not
	// production deployments, such as "*-rc*" for release candidates.
	ExcludeTags []string
	// Progress, when not nil, receives progress lines; on a terminal one
	// line is updated in place.
	Progress io.Writer
	// BatchSize is the number of commit events per Sink.Ingest call
	// (default DefaultBatchSize).
	BatchSize int
	// Paths reads the files each commit touched in the same log pass, for
	// services that own paths of a monorepo. It is opt-in because git then
	// diffs every commit against its parent, which makes the pass slower.
	Paths bool
	// ServicePaths are the path prefixes the service owns (its paths in
	// stride.yaml). When there are any, the files are read whether or not
	// Paths is set: without them every commit of the monorepo would count
	// as the service's, a wrong number no one would notice.
	ServicePaths []string
}

// Sink receives the imported events. The store implements it.
//
// Ingest gets the commits, in batches: it adds the events whose idempotency
// key it has not seen before and reports how many it added, which makes a
// repeated import cheap. Import calls it from a goroutine of its own, so
// that the store writes while git reads, but never twice at once; the sink
// may keep the slice it is given.
//
// ReplaceDeployments gets, once the commits are in, the complete set of
// deployments the repository's tags make for the service, as deployment
// events: the repository is the source of truth for what the import
// reported, so the sink removes the deployments an earlier import reported
// whose tag is gone or no longer matches, moves those whose tag now points
// elsewhere, adds the new ones, and says which it changed.
type Sink interface {
	Ingest(ctx context.Context, events []delivery.Event) (added int, err error)
	ReplaceDeployments(ctx context.Context, service string, deployments []delivery.Event) (Reconciled, error)
}

// Reconciled says how a sink's deployments of the service changed to equal
// the set an import reported, by deployment ID (the tag name), each list
// sorted.
type Reconciled struct {
	// Added were not reported by an earlier import.
	Added []string
	// Moved were, at another commit or time: the tag was moved or
	// re-created.
	Moved []string
	// Removed were, and the repository no longer has them as deployments:
	// the tag was deleted or no longer matches the patterns.
	Removed []string
	// Kept would have been removed, but another source reported them too,
	// so they stay as that source reported them.
	Kept []string
	// Unchanged counts the deployments the import found as they were.
	Unchanged int
}

// Summary tells what an import read and what it changed.
type Summary struct {
	// Commits is the number of commits read (each sent as a change).
	Commits int
	// Tags is the number of tags that point at a commit, matching or not.
	Tags int
	// Patterns count, for each deploy pattern and then each exclude
	// pattern, the tags it matched.
	Patterns []PatternCount
	// Deployments is the number of tags that are deployments: matching,
	// dated, and not folded into an earlier tag of the same commit.
	Deployments int
	// Folded are the matching tags of a commit that an earlier matching tag
	// already deployed, such as a Go module's v0.301.0 beside v3.1.0.
	Folded []Fold
	// Undated are matching tags whose creation time git could not read,
	// left out because a deployment needs a time.
	Undated []string
	// PathsRead says the files of each commit were read (Paths, or the
	// service's paths).
	PathsRead bool
	// EventsAdded is the number of new commits and new deployments.
	EventsAdded int
	// Reconciled says how the stored deployments changed.
	Reconciled Reconciled
	// Duration is the wall time of the import.
	Duration time.Duration
}

// PatternCount is how many tags one pattern matched.
type PatternCount struct {
	Pattern string
	// Exclude is set for an exclude pattern.
	Exclude bool
	// Matched counts the tags the pattern matched: of every tag for a
	// deploy pattern, of the tags the deploy patterns took for an exclude
	// pattern.
	Matched int
}

// Fold is a matching tag that is not a deployment of its own: Into, an
// earlier matching tag (by creation time, then name), deployed its commit.
type Fold struct {
	Tag, Into string
}

// CommitKey and TagKey return the idempotency keys of imported events. They
// depend only on the repository and the commit or tag name, so every re-run
// of an import produces the same keys.
func CommitKey(repository, sha string) string { return "git:" + repository + ":commit:" + sha }

// TagKey returns the idempotency key of the deployment made from a tag for
// the service named as its repository.
func TagKey(repository, tag string) string { return "git:" + repository + ":tag:" + tag }

// DeploymentKey returns the idempotency key of the deployment made from a
// tag for service: TagKey when the service is named as its repository, and
// one that names the service otherwise, so that the services of a monorepo,
// imported one after the other, each get their deployments.
func DeploymentKey(service, repository, tag string) string {
	k := TagKey(repository, tag)
	if service != repository {
		k += ":service:" + service
	}
	return k
}

// Import reads the commits and tags of the repository at opts.Dir and sends
// the commits to sink as change events, in batches of opts.BatchSize, while
// git is still walking the history, so memory stays bounded by the batch
// size, not the history. Then it hands the sink the complete set of the
// tags' deployments with ReplaceDeployments.
//
// Every commit reachable from a branch, a tag, a remote-tracking branch or
// HEAD (also a detached HEAD) is imported; other refs (notes, the stash,
// the refs/pull/* of a mirror clone) are left out because their commits are
// not code that ships, or not yet. A tag pointing at a tree or a blob is
// skipped. A tag's deployment finishes at the tag's creation: the tagger date
// of an annotated tag, the committer date of the commit of a lightweight one.
// Of several matching tags of one commit, only the earliest is a deployment:
// a commit is deployed once, however many names it is given.
func Import(ctx context.Context, opts Options, sink Sink) (Summary, error) {
	start := time.Now()
	var sum Summary
	if err := opts.normalize(); err != nil {
		return sum, err
	}
	prog := newProgress(opts.Progress)
	sum.PathsRead = opts.Paths

	// The tags are read first, though sent last, so that the log pass can
	// note the commit time of the few tags whose own time is unknown
	// without keeping the time of every commit.
	tags, err := readTags(ctx, opts.Dir)
	if err != nil {
		return sum, err
	}
	prog.tags(len(tags))
	needTime := make(map[string]int64)
	for _, t := range tags {
		if t.time == 0 {
			needTime[t.sha] = 0
		}
	}

	p := startPipeline(ctx, sink, opts.BatchSize, prog)
	err = readCommits(p.ctx, opts.Dir, opts.Paths, func(c commit) error {
		if _, ok := needTime[c.sha]; ok {
			needTime[c.sha] = c.commitTime
		}
		sum.Commits++
		prog.commits(sum.Commits)
		return p.add(changeEvent(opts.Repository, c))
	})
	if err == nil {
		err = p.flush()
	}
	added, sinkErr := p.close()
	sum.EventsAdded = added
	if sinkErr != nil {
		// The sink's failure stopped git; it is the cause, not git's exit.
		return sum, sinkErr
	}
	if err != nil {
		return sum, err
	}

	sum.Tags = len(tags)
	deployed := opts.selectTags(tags, needTime, &sum)
	events := make([]delivery.Event, 0, len(deployed))
	for _, t := range deployed {
		e := deploymentEvent(opts.Service, opts.Repository, t)
		if err := e.Validate(); err != nil {
			return sum, fmt.Errorf("import %s: %w", e.Key, err)
		}
		events = append(events, e)
	}
	sum.Deployments = len(events)
	rec, err := sink.ReplaceDeployments(ctx, opts.Service, events)
	if err != nil {
		return sum, fmt.Errorf("replace the deployments of %s: %w", opts.Service, err)
	}
	sum.Reconciled = rec
	sum.EventsAdded += len(rec.Added)
	sum.Duration = time.Since(start)
	prog.done()
	return sum, nil
}

// normalize checks the options and fills in the defaults.
func (o *Options) normalize() error {
	if strings.TrimSpace(o.Dir) == "" {
		return errors.New("import git: the repository directory is required")
	}
	if strings.TrimSpace(o.Service) == "" {
		return errors.New("import git: the service is required")
	}
	if o.Repository == "" {
		o.Repository = o.Service
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if len(o.ServicePaths) > 0 {
		o.Paths = true
	}
	split := func(list []string) ([]string, error) {
		var out []string
		for _, entry := range list {
			for _, p := range delivery.SplitTagPatterns(entry) {
				if err := delivery.CheckTagPattern(p); err != nil {
					return nil, fmt.Errorf("import git: %w", err)
				}
				out = append(out, p)
			}
		}
		return out, nil
	}
	var err error
	if o.DeployTags, err = split(o.DeployTags); err != nil {
		return err
	}
	o.ExcludeTags, err = split(o.ExcludeTags)
	return err
}

// selectTags returns the tags that are deployments, oldest first, and
// records in sum how each pattern counted and which tags were folded or had
// no date. commitTime holds the commit times of the tags without a time of
// their own.
func (o Options) selectTags(tags []tag, commitTime map[string]int64, sum *Summary) []tag {
	deploy := make([]int, len(o.DeployTags))
	exclude := make([]int, len(o.ExcludeTags))
	var candidates []tag
	for _, t := range tags {
		taken := len(o.DeployTags) == 0
		for i, p := range o.DeployTags {
			if delivery.MatchTag(p, t.name) {
				deploy[i]++
				taken = true
			}
		}
		if !taken {
			continue
		}
		left := false
		for i, p := range o.ExcludeTags {
			if delivery.MatchTag(p, t.name) {
				exclude[i]++
				left = true
			}
		}
		if left {
			continue
		}
		if t.time == 0 {
			t.time = commitTime[t.sha]
		}
		if t.time == 0 {
			// Neither the tag nor its commit has a date git could read:
			// a deployment without a finish time cannot be placed in time,
			// so it is left out rather than put at the epoch.
			sum.Undated = append(sum.Undated, t.name)
			continue
		}
		candidates = append(candidates, t)
	}
	for i, p := range o.DeployTags {
		sum.Patterns = append(sum.Patterns, PatternCount{Pattern: p, Matched: deploy[i]})
	}
	for i, p := range o.ExcludeTags {
		sum.Patterns = append(sum.Patterns, PatternCount{Pattern: p, Exclude: true, Matched: exclude[i]})
	}
	slices.SortFunc(candidates, func(a, b tag) int {
		if c := cmp.Compare(a.time, b.time); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	first := make(map[string]string, len(candidates)) // commit → the tag that deployed it
	out := candidates[:0]
	for _, t := range candidates {
		if into, ok := first[t.sha]; ok {
			sum.Folded = append(sum.Folded, Fold{Tag: t.name, Into: into})
			continue
		}
		first[t.sha] = t.name
		out = append(out, t)
	}
	return out
}

func changeEvent(repository string, c commit) delivery.Event {
	author := c.authorName
	if c.authorEmail != "" {
		if author != "" {
			author += " "
		}
		author += "<" + c.authorEmail + ">"
	}
	key := CommitKey(repository, c.sha)
	if c.paths != nil {
		// Another key than a plain import's, so that importing with paths
		// a history imported without adds the paths to the stored changes.
		key += ":paths"
	}
	return delivery.Event{
		Key:    key,
		Kind:   delivery.KindChange,
		Source: Source,
		Change: &delivery.Change{
			Repository: repository,
			SHA:        c.sha,
			Parents:    c.parents,
			Author:     author,
			AuthorTime: time.Unix(c.authorTime, 0).UTC(),
			CommitTime: time.Unix(c.commitTime, 0).UTC(),
			Title:      c.subject,
			Paths:      c.paths,
		},
	}
}

func deploymentEvent(service, repository string, t tag) delivery.Event {
	at := time.Unix(t.time, 0).UTC()
	return delivery.Event{
		Key:    DeploymentKey(service, repository, t.name),
		Kind:   delivery.KindDeployment,
		Source: Source,
		Deployment: &delivery.Deployment{
			Service:     service,
			Environment: delivery.EnvironmentProduction,
			ID:          t.name,
			Status:      delivery.DeploymentSuccess,
			StartedAt:   at,
			FinishedAt:  at,
			SHA:         t.sha,
			Repository:  repository,
		},
	}
}

// pipeline validates events, gathers them into batches and hands the batches
// to the sink on a goroutine of its own, one batch at a time, so that the
// store writes one batch while git reads the next.
type pipeline struct {
	// ctx is cancelled when the sink fails, which stops git.
	ctx     context.Context
	cancel  context.CancelCauseFunc
	sink    Sink
	size    int
	events  []delivery.Event
	batches chan []delivery.Event
	done    chan struct{}
	prog    *progress

	// Written by the sending goroutine; read after done is closed.
	sent, added int
	err         error
}

func startPipeline(ctx context.Context, sink Sink, size int, prog *progress) *pipeline {
	ctx, cancel := context.WithCancelCause(ctx)
	p := &pipeline{
		ctx: ctx, cancel: cancel, sink: sink, size: size, prog: prog,
		events:  make([]delivery.Event, 0, size),
		batches: make(chan []delivery.Event, 1),
		done:    make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *pipeline) run() {
	defer close(p.done)
	for batch := range p.batches {
		if p.err != nil {
			continue // drain, so that a sender is never blocked
		}
		added, err := p.sink.Ingest(p.ctx, batch)
		if err != nil {
			p.err = fmt.Errorf("ingest %d events (after %d sent): %w", len(batch), p.sent, err)
			p.cancel(p.err)
			continue
		}
		p.sent += len(batch)
		p.added += added
		p.prog.sent(p.sent, p.added)
	}
}

func (p *pipeline) add(e delivery.Event) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("import %s: %w", e.Key, err)
	}
	p.events = append(p.events, e)
	if len(p.events) >= p.size {
		return p.flush()
	}
	return nil
}

// flush queues the gathered events as one batch.
func (p *pipeline) flush() error {
	if len(p.events) == 0 {
		return nil
	}
	select {
	case p.batches <- p.events:
	case <-p.ctx.Done():
		return context.Cause(p.ctx)
	}
	// A fresh slice, not a truncated one: the sink owns the batch it was
	// given.
	p.events = make([]delivery.Event, 0, p.size)
	return nil
}

// close waits for the queued batches to be sent and returns the number of
// events the sink added and its error, if it failed.
func (p *pipeline) close() (added int, err error) {
	close(p.batches)
	<-p.done
	p.cancel(nil)
	return p.added, p.err
}
