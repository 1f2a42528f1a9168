package incident

import (
	"slices"
	"strconv"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Input is what the incident report is computed from: the incidents that
// opened or resolved in the period (the store may pass more; Compute filters),
// the services (for their teams), the follow-ups and reviews of those
// incidents, the policies in force and the moment the report is made.
type Input struct {
	Period    delivery.Period
	Now       time.Time
	Incidents []delivery.Incident
	Services  []delivery.Service
	FollowUps []FollowUp
	Reviews   []Review
	Policies  Policies
	Rules     Rules
}

// Report is the incident response report. Its JSON names are part of the API.
type Report struct {
	From              time.Time      `json:"from"`
	To                time.Time      `json:"to"`
	Now               time.Time      `json:"now"`
	BySeverity        Counts         `json:"by_severity"`
	BySource          Sources        `json:"by_source"`
	TimeToAcknowledge Figure         `json:"time_to_acknowledge"`
	TimeToRestore     Figure         `json:"time_to_restore"`
	Breaches          int            `json:"breaches"`
	BreachRate        BreachRate     `json:"breach_rate"`
	OpenFollowUps     []OpenFollowUp `json:"open_followups"`
	FollowUpsMissing  []IncidentRef  `json:"followups_missing"`
	ReviewsMissing    []IncidentRef  `json:"reviews_missing"`
	Incidents         []IncidentRow  `json:"incidents"`
	Warnings          []string       `json:"warnings"`
}

// Counts are incident counts per severity, keyed "0" to "3".
type Counts map[string]int

// Sources counts incidents by who raised them.
type Sources struct {
	Customer   int `json:"customer"`
	Monitoring int `json:"monitoring"`
	Unknown    int `json:"unknown"`
}

// Summary is a duration figure: median and p90 in seconds, null when Count
// is 0 (empty is not zero).
type Summary struct {
	Median *float64 `json:"median_seconds"`
	P90    *float64 `json:"p90_seconds"`
	Count  int      `json:"count"`
}

// Figure is a Summary overall and per severity ("0" to "3").
type Figure struct {
	Summary
	BySeverity map[string]Summary `json:"by_severity"`
}

// Ratio is breached ÷ judged; Ratio is null when nothing could be judged.
type Ratio struct {
	Breached int      `json:"breached"`
	Judged   int      `json:"judged"`
	Ratio    *float64 `json:"ratio"`
}

// BreachRate is the breach ratio overall, per severity and per team. An
// incident is judged once its SLA is decided: answered, or past due.
type BreachRate struct {
	Ratio
	BySeverity map[string]Ratio `json:"by_severity"`
	ByTeam     map[string]Ratio `json:"by_team"`
}

// OpenFollowUp is a follow-up still to do, with its age in seconds.
type OpenFollowUp struct {
	FollowUp
	AgeSeconds float64 `json:"age_seconds"`
	Overdue    bool    `json:"overdue"`
}

// IncidentRef names an incident a rule lists.
type IncidentRef struct {
	Service    string    `json:"service"`
	ID         string    `json:"id"`
	Severity   int       `json:"severity"`
	ResolvedAt time.Time `json:"resolved_at"`
}

// IncidentRow is one incident of the report.
type IncidentRow struct {
	ID             string     `json:"id"`
	Service        string     `json:"service"`
	Team           string     `json:"team,omitempty"`
	Title          string     `json:"title,omitempty"`
	Severity       int        `json:"severity"`
	Origin         string     `json:"origin"`
	OpenedAt       time.Time  `json:"opened_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	SLADueAt       time.Time  `json:"sla_due_at"`
	Breached       bool       `json:"breached"`
}

func sevKey(s int) string { return strconv.Itoa(s) }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// row is an incident with what the report derives from it, shared by
// Compute and Explain so that a figure and its explanation cannot disagree.
type row struct {
	in       delivery.Incident
	team     string
	severity int
	due      time.Time
	opened   bool // opened in the period: counted, judged, acknowledged
	resolved bool // resolved in the period: time to restore
	judged   bool
	breached bool
	tta      time.Duration // valid when ackOK
	ackOK    bool
	ttr      time.Duration // valid when ttrOK
	ttrOK    bool
}

// rows derives the rows of the report and the data-quality warnings.
func rows(in Input) ([]row, []string) {
	teams := make(map[string]string, len(in.Services))
	for _, s := range in.Services {
		teams[s.Name] = s.Team
	}
	var out []row
	var warnings []string
	for _, inc := range in.Incidents {
		r := row{in: inc, team: teams[inc.Service], severity: severityOf(inc.Severity)}
		r.opened = in.Period.Contains(inc.OpenedAt)
		r.resolved = isResolved(inc) && in.Period.Contains(inc.ResolvedAt)
		if !r.opened && !r.resolved {
			continue
		}
		p := in.Policies.For(inc.Service, r.team)
		r.due = p.DueAt(inc.OpenedAt, r.severity)
		// Every listed incident says whether it breached; only those opened
		// in the period count towards the breach figures.
		r.breached = p.Breached(inc, in.Now)
		if r.opened {
			resp := RespondedAt(inc)
			r.judged = r.breached || (!resp.IsZero() && !resp.After(in.Now))
			if !inc.AcknowledgedAt.IsZero() {
				if d := inc.AcknowledgedAt.Sub(inc.OpenedAt); d >= 0 {
					r.tta, r.ackOK = d, true
				} else {
					warnings = append(warnings, "incident "+inc.Service+"/"+inc.ID+" was acknowledged before it opened; left out of time to acknowledge")
				}
			}
		}
		if r.resolved {
			if d := inc.ResolvedAt.Sub(inc.OpenedAt); d >= 0 {
				r.ttr, r.ttrOK = d, true
			} else {
				warnings = append(warnings, "incident "+inc.Service+"/"+inc.ID+" was resolved before it opened; left out of time to restore")
			}
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b row) int {
		if c := a.in.OpenedAt.Compare(b.in.OpenedAt); c != 0 {
			return c
		}
		if a.in.Service != b.in.Service {
			if a.in.Service < b.in.Service {
				return -1
			}
			return 1
		}
		switch {
		case a.in.ID < b.in.ID:
			return -1
		case a.in.ID > b.in.ID:
			return 1
		}
		return 0
	})
	return out, warnings
}

func ratio(b, j int) Ratio {
	r := Ratio{Breached: b, Judged: j}
	if j > 0 {
		r.Ratio = ptr(float64(b) / float64(j))
	}
	return r
}

// Compute makes the incident report. Incidents opened in the period are
// counted by severity and source, give time to acknowledge and are judged
// against their SLA as of Now; incidents resolved in the period give time to
// restore, as the DORA key does. Follow-ups and reviews are read as of Now.
func Compute(in Input) Report {
	rs, warnings := rows(in)
	rep := Report{
		From: in.Period.From, To: in.Period.To, Now: in.Now,
		BySeverity: Counts{}, Warnings: warnings,
		TimeToAcknowledge: Figure{BySeverity: map[string]Summary{}},
		TimeToRestore:     Figure{BySeverity: map[string]Summary{}},
		BreachRate:        BreachRate{BySeverity: map[string]Ratio{}, ByTeam: map[string]Ratio{}},
		OpenFollowUps:     []OpenFollowUp{}, FollowUpsMissing: []IncidentRef{}, ReviewsMissing: []IncidentRef{},
		Incidents: []IncidentRow{},
	}
	var tta, ttr []int64
	var ttaSev, ttrSev [4][]int64
	var breached, judged [4]int
	teamB, teamJ := map[string]int{}, map[string]int{}
	for _, r := range rs {
		inc := r.in
		rep.Incidents = append(rep.Incidents, IncidentRow{
			ID: inc.ID, Service: inc.Service, Team: r.team, Title: inc.Title, Severity: r.severity,
			Origin: string(delivery.OriginOf(inc)), OpenedAt: inc.OpenedAt,
			AcknowledgedAt: timePtr(inc.AcknowledgedAt), ResolvedAt: timePtr(inc.ResolvedAt),
			SLADueAt: r.due, Breached: r.breached,
		})
		if r.opened {
			rep.BySeverity[sevKey(r.severity)]++
			switch delivery.OriginOf(inc) {
			case delivery.OriginCustomer:
				rep.BySource.Customer++
			case delivery.OriginMonitoring:
				rep.BySource.Monitoring++
			default:
				rep.BySource.Unknown++
			}
			if r.ackOK {
				tta = append(tta, int64(r.tta))
				ttaSev[r.severity] = append(ttaSev[r.severity], int64(r.tta))
			}
			if r.judged {
				judged[r.severity]++
				teamJ[r.team]++
			}
			if r.breached {
				rep.Breaches++
				breached[r.severity]++
				teamB[r.team]++
			}
		}
		if r.ttrOK {
			ttr = append(ttr, int64(r.ttr))
			ttrSev[r.severity] = append(ttrSev[r.severity], int64(r.ttr))
		}
	}
	rep.TimeToAcknowledge.Summary = summarize(tta)
	rep.TimeToRestore.Summary = summarize(ttr)
	totalB, totalJ := 0, 0
	for s := range 4 {
		k := sevKey(s)
		rep.BySeverity[k] += 0
		rep.TimeToAcknowledge.BySeverity[k] = summarize(ttaSev[s])
		rep.TimeToRestore.BySeverity[k] = summarize(ttrSev[s])
		rep.BreachRate.BySeverity[k] = ratio(breached[s], judged[s])
		totalB += breached[s]
		totalJ += judged[s]
	}
	rep.BreachRate.Ratio = ratio(totalB, totalJ)
	for team, j := range teamJ {
		rep.BreachRate.ByTeam[team] = ratio(teamB[team], j)
	}

	rep.OpenFollowUps = openFollowUps(in)
	rep.FollowUpsMissing, rep.ReviewsMissing = rcaMissing(in, rs)
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	return rep
}

func openFollowUps(in Input) []OpenFollowUp {
	out := []OpenFollowUp{}
	for _, f := range in.FollowUps {
		if !f.Open(in.Now) {
			continue
		}
		out = append(out, OpenFollowUp{FollowUp: f, AgeSeconds: in.Now.Sub(f.CreatedAt).Seconds(), Overdue: f.Overdue(in.Now)})
	}
	slices.SortFunc(out, func(a, b OpenFollowUp) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

type incKey struct{ service, id string }

// rcaMissing lists the resolved severity 0–1 incidents of the report that
// have no follow-up, and those whose review is overdue.
func rcaMissing(in Input, rs []row) (followups, reviews []IncidentRef) {
	hasF, hasR := map[incKey]bool{}, map[incKey]bool{}
	for _, f := range in.FollowUps {
		hasF[incKey{f.Service, f.Incident}] = true
	}
	for _, r := range in.Reviews {
		hasR[incKey{r.Service, r.Incident}] = true
	}
	followups, reviews = []IncidentRef{}, []IncidentRef{}
	for _, r := range rs {
		if !NeedsRCA(r.in) || r.in.ResolvedAt.After(in.Now) {
			continue
		}
		k := incKey{r.in.Service, r.in.ID}
		ref := IncidentRef{Service: r.in.Service, ID: r.in.ID, Severity: r.severity, ResolvedAt: r.in.ResolvedAt}
		if !hasF[k] {
			followups = append(followups, ref)
		}
		if in.Rules.ReviewMissing(r.in, hasR[k], in.Now) {
			reviews = append(reviews, ref)
		}
	}
	return followups, reviews
}
