package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// agilePage is the agile API's page of a list: values (boards, sprints)
// or issues, from startAt, and whether it is the last.
type agilePage struct {
	StartAt    int               `json:"startAt"`
	MaxResults int               `json:"maxResults"`
	Total      int               `json:"total"`
	IsLast     bool              `json:"isLast"`
	Values     []json.RawMessage `json:"values"`
	Issues     []json.RawMessage `json:"issues"`
}

type agileSprint struct {
	ID            int    `json:"id"`
	State         string `json:"state"`
	Name          string `json:"name"`
	StartDate     string `json:"startDate"`
	EndDate       string `json:"endDate"`
	CompleteDate  string `json:"completeDate"`
	OriginBoardID int    `json:"originBoardId"`
}

// pages reads every page of an agile list, startAt by startAt.
func (c *Collector) pages(ctx context.Context, base string, res *ProjectResult, each func(agilePage) error) error {
	start := 0
	for {
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		resp, err := c.client.Do(ctx, collect.Request{URL: base + sep + "startAt=" + strconv.Itoa(start) + "&maxResults=50"})
		if err != nil {
			return err
		}
		res.Pages++
		c.tracker.Page()
		var p agilePage
		if err := json.Unmarshal(resp.Body, &p); err != nil {
			return fmt.Errorf("%s: %w", base, err)
		}
		if err := each(p); err != nil {
			return err
		}
		n := len(p.Values) + len(p.Issues)
		start = p.StartAt + n
		// Lists of values say isLast; lists of issues give a total.
		if n == 0 || p.IsLast || (p.Values == nil && start >= p.Total) {
			return nil
		}
	}
}

// sprints reads the project's boards, their sprints and the issues of each
// sprint. A board's cursor keeps, in LastID, the highest sprint id up to
// which every sprint is closed and read: closed sprints do not change, so
// a later run reads the issues of the open sprints only.
func (c *Collector) sprints(ctx context.Context, project string, res *ProjectResult) error {
	var boards []int
	err := c.pages(ctx, c.cfg.URL+"/rest/agile/1.0/board?projectKeyOrId="+url.QueryEscape(project), res, func(p agilePage) error {
		for _, raw := range p.Values {
			var b struct {
				ID int `json:"id"`
			}
			if err := json.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("boards of %s: %w", project, err)
			}
			boards = append(boards, b.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.Boards += len(boards)
	for _, board := range boards {
		if err := c.board(ctx, project, board, res); err != nil {
			return fmt.Errorf("board %d: %w", board, err)
		}
	}
	return nil
}

func (c *Collector) board(ctx context.Context, project string, board int, res *ProjectResult) error {
	cur, err := c.cursors.Cursor(ctx, Source, project, "sprints:"+strconv.Itoa(board))
	if err != nil {
		return err
	}
	done, _ := strconv.Atoi(cur.LastID)
	var sprints []agileSprint
	err = c.pages(ctx, fmt.Sprintf("%s/rest/agile/1.0/board/%d/sprint", c.cfg.URL, board), res, func(p agilePage) error {
		for _, raw := range p.Values {
			var s agileSprint
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("sprints: %w", err)
			}
			sprints = append(sprints, s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.Sprints += len(sprints)
	// Sprints are listed in id order; the closed prefix moves the cursor.
	prefix := true
	for _, s := range sprints {
		closed := strings.EqualFold(s.State, "closed")
		if closed && s.ID <= done {
			continue
		}
		if strings.EqualFold(s.State, "future") {
			// Not started: nobody is committed to it yet.
			prefix = false
			continue
		}
		if err := c.sprintIssues(ctx, project, board, s, res); err != nil {
			return fmt.Errorf("sprint %d: %w", s.ID, err)
		}
		res.SprintsRead++
		if prefix && closed && s.ID > done {
			done = s.ID
			cur.LastID = strconv.Itoa(done)
			if err := c.cursors.SaveCursor(ctx, cur); err != nil {
				return err
			}
		}
		prefix = prefix && closed
	}
	return nil
}

// sprintIssues writes the issues of one sprint, each through the webhook
// connector as the search does, with the sprint as the agile API states it
// (dates, state, board) among its sprints.
func (c *Collector) sprintIssues(ctx context.Context, project string, board int, s agileSprint, res *ProjectResult) error {
	member := delivery.SprintMembership{ID: strconv.Itoa(s.ID), Name: s.Name, Board: strconv.Itoa(board), State: strings.ToLower(s.State),
		StartAt: parseTime(s.StartDate), EndAt: parseTime(s.EndDate), CompletedAt: parseTime(s.CompleteDate)}
	base := fmt.Sprintf("%s/rest/agile/1.0/board/%d/sprint/%d/issue?expand=changelog&fields=*all", c.cfg.URL, board, s.ID)
	return c.pages(ctx, base, res, func(p agilePage) error {
		var events []delivery.Event
		for _, raw := range p.Issues {
			var is struct {
				Fields struct {
					Updated string `json:"updated"`
				} `json:"fields"`
			}
			if err := json.Unmarshal(raw, &is); err != nil {
				return err
			}
			res.Issues++
			updated := parseTime(is.Fields.Updated)
			body, err := json.Marshal(map[string]any{"webhookEvent": "jira:issue_updated", "timestamp": updated.UnixMilli(), "issue": raw})
			if err != nil {
				return err
			}
			ev, err := c.mapper.Translate(http.Header{}, body)
			switch {
			case errors.Is(err, ingest.ErrIgnored):
				continue
			case err != nil:
				res.Skipped++
				c.cfg.Logger.Warn("collect: an issue the connector cannot read is left out", "project", project, "sprint", s.ID, "err", err)
				continue
			}
			for _, e := range c.categorize(ev) {
				if e.WorkItem == nil {
					continue
				}
				// A key of its own: this report says more than the
				// search's of the same issue update.
				e.Key = "jira-agile:sprint:" + member.ID + ":" + e.Key
				w := *e.WorkItem
				w.Sprints = append(w.Sprints, member)
				e.WorkItem = &w
				if err := e.Validate(); err != nil {
					return err
				}
				events = append(events, e)
			}
		}
		if len(events) == 0 {
			return nil
		}
		r, err := c.out.Events(ctx, Source, events)
		if err != nil {
			return fmt.Errorf("write %d events of sprint %d: %w", len(events), s.ID, err)
		}
		res.Events += r.Events
		res.Added += r.Added
		c.tracker.Wrote(r.Events, r.Added)
		return nil
	})
}
