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
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Source is the Event.Source of every event this package makes.
const Source = "git"

// DefaultBatchSize is the number of events sent to the sink in one call when
// Options.BatchSize is not set: large enough that a store commits a history of
// tens of thousands of commits in a few transactions, small enough that one
// batch's memory stays modest.
const DefaultBatchSize = 5000

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
	// DeployTags are path.Match patterns (such as "v*") naming the tags that
	// were production deployments. Default: every tag. Note that "*" does
	// not match "/", so "release/*" is needed for tags under release/.
	DeployTags []string
	// ExcludeTags are patterns of tags that match DeployTags but were not
	// production deployments, such as "*-rc*" for release candidates.
	ExcludeTags []string
	// Progress, when not nil, receives progress lines; on a terminal one
	// line is updated in place.
	Progress io.Writer
	// BatchSize is the number of events per Sink.Ingest call
	// (default DefaultBatchSize).
	BatchSize int
	// Paths reads the files each commit touched in the same log pass, for
	// services that own paths of a monorepo. It is opt-in because git then
	// diffs every commit against its parent, which makes the pass slower.
	Paths bool
}

// Sink receives the imported events. The store implements it; it adds the
// events whose idempotency key it has not seen before and reports how many
// it added, which makes a repeated import cheap and exact: it adds only the
// commits and tags that are new since the last run. Import calls Ingest from
// a goroutine of its own, so that the store writes while git reads, but never
// twice at once; the sink may keep the slice it is given.
type Sink interface {
	Ingest(ctx context.Context, events []delivery.Event) (added int, err error)
}

// Summary tells what an import read and what it added.
type Summary struct {
	// Commits is the number of commits read (each sent as a change).
	Commits int
	// Tags is the number of tags that point at a commit, matching or not.
	Tags int
	// Deployments is the number of tags that matched the patterns and were
	// sent as deployments.
	Deployments int
	// EventsAdded is the number of events the sink reported as new.
	EventsAdded int
	// Duration is the wall time of the import.
	Duration time.Duration
}

// CommitKey and TagKey return the idempotency keys of imported events. They
// depend only on the repository and the commit or tag name, so every re-run
// of an import produces the same keys.
func CommitKey(repository, sha string) string { return "git:" + repository + ":commit:" + sha }

// TagKey returns the idempotency key of the deployment made from a tag.
func TagKey(repository, tag string) string { return "git:" + repository + ":tag:" + tag }

// Import reads the commits and tags of the repository at opts.Dir and sends
// them to sink as change and deployment events, commits first and then tags,
// in batches of opts.BatchSize. Commits are sent while git is still walking
// the history, so memory stays bounded by the batch size, not the history.
//
// Every commit reachable from a branch, a tag, a remote-tracking branch or
// HEAD (also a detached HEAD) is imported; other refs (notes, the stash,
// the refs/pull/* of a mirror clone) are left out because their commits are
// not code that ships, or not yet. A tag pointing at a tree or a blob is
// skipped. A tag's deployment finishes at the tag's creation: the tagger date
// of an annotated tag, the committer date of the commit of a lightweight one.
func Import(ctx context.Context, opts Options, sink Sink) (Summary, error) {
	start := time.Now()
	var sum Summary
	if err := opts.check(); err != nil {
		return sum, err
	}
	if opts.Repository == "" {
		opts.Repository = opts.Service
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	prog := newProgress(opts.Progress)

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
		// The last short batch of commits goes before the first of tags.
		err = p.flush()
	}
	for i := 0; err == nil && i < len(tags); i++ {
		t := tags[i]
		sum.Tags++
		var ok bool
		if ok, err = opts.deploys(t.name); err != nil || !ok {
			continue
		}
		if t.time == 0 {
			t.time = needTime[t.sha]
		}
		if t.time == 0 {
			// Neither the tag nor its commit has a date git could read:
			// a deployment without a finish time cannot be placed in time,
			// so it is left out rather than put at the epoch.
			continue
		}
		sum.Deployments++
		err = p.add(deploymentEvent(opts.Service, opts.Repository, t))
	}
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
	sum.Duration = time.Since(start)
	prog.done(sum)
	return sum, nil
}

func (o Options) check() error {
	if strings.TrimSpace(o.Dir) == "" {
		return errors.New("import git: the repository directory is required")
	}
	if strings.TrimSpace(o.Service) == "" {
		return errors.New("import git: the service is required")
	}
	for _, p := range append(append([]string(nil), o.DeployTags...), o.ExcludeTags...) {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("import git: tag pattern %q: %w", p, err)
		}
	}
	return nil
}

// deploys reports whether the tag named name was a production deployment.
func (o Options) deploys(name string) (bool, error) {
	match := len(o.DeployTags) == 0
	for _, p := range o.DeployTags {
		ok, err := path.Match(p, name)
		if err != nil {
			return false, fmt.Errorf("match tag %s against %q: %w", name, p, err)
		}
		if ok {
			match = true
			break
		}
	}
	if !match {
		return false, nil
	}
	for _, p := range o.ExcludeTags {
		ok, err := path.Match(p, name)
		if err != nil {
			return false, fmt.Errorf("match tag %s against %q: %w", name, p, err)
		}
		if ok {
			return false, nil
		}
	}
	return true, nil
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
		Key:    TagKey(repository, t.name),
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
