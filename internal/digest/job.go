package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/weekly"
)

// TaskName is the digest job's name in the runner.
const TaskName = "team-digest"

// Schedule is when a team's digest is sent and where (see weekly.Schedule).
type Schedule = weekly.Schedule

// Job sends each scheduled team's digest once per week: when a run finds
// the latest scheduled time passed and that week's digest not recorded, it
// builds the digest as of the scheduled time and records it with one
// outbox row per route in one transaction (store.RecordDigest). A restart,
// a second replica or a run a minute later finds the week recorded and
// sends nothing; a server that was down at the scheduled time sends the
// latest missed week once when it comes back, not one per week missed.
// The outbox job delivers the rows, with its retries.
type Job struct {
	DB        *store.DB
	Reader    *Reader
	Schedules []Schedule
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Sent says what one run enqueued: the team and week of each digest.
type Sent struct {
	Team   string
	Week   string
	At     time.Time
	Routes []string
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Job) logger() *slog.Logger {
	if j.Logger != nil {
		return j.Logger
	}
	return slog.Default()
}

// Run sends what is due now. A team whose digest fails does not hold back
// the others; the errors are returned together.
func (j *Job) Run(ctx context.Context) ([]Sent, error) {
	now := j.now()
	var sent []Sent
	var errs []error
	for _, s := range j.Schedules {
		at := s.Last(now)
		week := s.Key(at)
		done, err := j.DB.DigestSent(ctx, s.Team, week)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if done {
			continue
		}
		ok, err := j.send(ctx, s, week, at)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest of %s for %s: %w", s.Team, week, err))
			continue
		}
		if ok {
			sent = append(sent, Sent{Team: s.Team, Week: week, At: at, Routes: s.Routes})
			j.logger().Info("team digest enqueued", "team", s.Team, "week", week, "scheduled_at", at, "routes", s.Routes)
		}
	}
	return sent, errors.Join(errs...)
}

func (j *Job) send(ctx context.Context, s Schedule, week string, at time.Time) (bool, error) {
	d, err := j.Reader.Digest(ctx, s.Team, week, at)
	if err != nil {
		return false, err
	}
	m, err := Message(d)
	if err != nil {
		return false, err
	}
	var rows []notify.Row
	for _, route := range s.Routes {
		row, err := notify.NewRow(route, m, j.now())
		if err != nil {
			return false, err
		}
		rows = append(rows, row)
	}
	body, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	return j.DB.RecordDigest(ctx, store.SentDigest{Team: s.Team, Week: week, ScheduledAt: at, Digest: body}, rows)
}

// Message is the digest as a notification: its subject as the summary, the
// text, HTML and chat renderings as the body, and a dedup key of team and
// week, so a receiver that sees it twice (a crash between delivery and its
// record) can tell.
func Message(d Digest) (notify.Message, error) {
	html, err := HTML(d)
	if err != nil {
		return notify.Message{}, err
	}
	return notify.Message{
		Action: notify.ActionTrigger, Reason: notify.ReasonDigest, DedupKey: "stride/digest/" + d.Team + "/" + d.Week,
		Summary: Subject(d), Severity: 3, Team: d.Team, Link: d.Link, At: d.At,
		Body: &notify.Body{Text: Text(d), HTML: html, Chat: Chat(d)},
	}, nil
}

// Task is the job as a task of the runner: every minute, since a run that
// finds nothing due reads one row per team.
func (j *Job) Task() jobs.Task {
	return jobs.Task{Name: TaskName, Every: time.Minute, Share: 0.1, Run: func(ctx context.Context) error {
		_, err := j.Run(ctx)
		return err
	}}
}
