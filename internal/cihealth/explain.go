package cihealth

import (
	"cmp"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Figures are the figures Explain lists the records of.
var Figures = []string{"build_duration", "red_time", "rerun_rate", "commit_to_production", "deploy_hours"}

// Explanation lists the records behind one figure.
type Explanation struct {
	Figure      string                `json:"figure"`
	From        time.Time             `json:"from"`
	To          time.Time             `json:"to"`
	Builds      []ExplainedBuild      `json:"builds,omitempty"`
	Changes     []ExplainedChange     `json:"changes,omitempty"`
	Deployments []ExplainedDeployment `json:"deployments,omitempty"`
	Warnings    []string              `json:"warnings"`
}

// ExplainedBuild is one build and what the figure made of it.
type ExplainedBuild struct {
	Repository string               `json:"repository"`
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Branch     string               `json:"branch"`
	Status     delivery.BuildStatus `json:"status"`
	Attempt    int                  `json:"attempt"`
	StartedAt  time.Time            `json:"started_at"`
	FinishedAt time.Time            `json:"finished_at"`
	// Seconds is the build's duration when the figure read it.
	Seconds *float64 `json:"duration_seconds,omitempty"`
	// Rule says what the figure made of the build, in words.
	Rule string `json:"rule"`
}

// ExplainedChange is one change shipped to production.
type ExplainedChange struct {
	Deployment    string    `json:"deployment"`
	Repository    string    `json:"repository"`
	SHA           string    `json:"sha"`
	CommitTime    time.Time `json:"commit_time"`
	DeployedAt    time.Time `json:"deployed_at"`
	Seconds       float64   `json:"seconds"`
	TargetSeconds float64   `json:"target_seconds"`
	Within        bool      `json:"within_target"`
}

// ExplainedDeployment is one production deployment placed in its team's
// week.
type ExplainedDeployment struct {
	Deployment string    `json:"deployment"`
	Status     string    `json:"status"`
	FinishedAt time.Time `json:"finished_at"`
	Local      string    `json:"local_time"`
	TimeZone   string    `json:"time_zone"`
	Outside    bool      `json:"outside_working_hours"`
}

// Explain lists the records behind figure, which is one of Figures.
func Explain(in Input, figure string) (Explanation, error) {
	e := Explanation{Figure: figure, From: in.Period.From, To: in.Period.To, Warnings: []string{}}
	warnings := func() []Warning { return Compute(in).Warnings }
	if figure == "deploy_hours" {
		warnings = func() []Warning { return Hours(in).Warnings }
	}
	switch figure {
	case "build_duration":
		for _, b := range sortedBuilds(in.Builds) {
			if !counted(b) || !in.Period.Contains(b.FinishedAt) {
				continue
			}
			x := explained(b, "not timed: a re-run keeps its run's first start, so its span holds the wait before the re-run")
			switch {
			case timed(b):
				s := b.FinishedAt.Sub(b.StartedAt).Seconds()
				x.Seconds, x.Rule = &s, "timed: finished minus started"
			case b.StartedAt.IsZero():
				x.Rule = "not timed: its source gave no start"
			}
			e.Builds = append(e.Builds, x)
		}
	case "red_time":
		for repo, bs := range defaultBranchBuilds(in) {
			for _, b := range bs {
				rule := "green: ends a red stretch of its pipeline, if one was open"
				if b.Status == delivery.BuildFailure {
					rule = "red: starts a red stretch of its pipeline, unless one is open"
				}
				x := explained(b, rule+" on "+in.DefaultBranches[repo].Name)
				e.Builds = append(e.Builds, x)
			}
		}
		slices.SortFunc(e.Builds, func(a, b ExplainedBuild) int {
			return cmp.Or(cmp.Compare(a.Repository, b.Repository), a.FinishedAt.Compare(b.FinishedAt), cmp.Compare(a.ID, b.ID))
		})
	case "rerun_rate":
		for _, b := range sortedBuilds(in.Builds) {
			if !counted(b) || !in.Period.Contains(b.FinishedAt) {
				continue
			}
			rule := "first attempt"
			switch {
			case b.Attempt == 0:
				rule = "attempt not known: left out of the rate"
			case b.Attempt > 1:
				rule = "re-run"
			}
			e.Builds = append(e.Builds, explained(b, rule))
		}
	case "commit_to_production":
		for _, c := range productionChanges(in) {
			e.Changes = append(e.Changes, ExplainedChange{Deployment: c.ship.Deployment.String(), Repository: c.ship.Repository, SHA: c.ship.SHA,
				CommitTime: c.ship.CommitTime, DeployedAt: c.deployedAt, Seconds: c.took.Seconds(), TargetSeconds: c.target.Seconds(), Within: c.took <= c.target})
		}
	case "deploy_hours":
		for _, d := range productionDeployments(in) {
			w := in.week(d.Service)
			e.Deployments = append(e.Deployments, ExplainedDeployment{Deployment: d.Key().String(), Status: string(d.Status), FinishedAt: d.FinishedAt,
				Local: d.FinishedAt.In(w.location()).Format("Mon 2006-01-02 15:04"), TimeZone: w.location().String(), Outside: !w.Within(d.FinishedAt)})
		}
	default:
		return e, delivery.FieldError("figure", "%q is not one of build_duration, red_time, rerun_rate, commit_to_production, deploy_hours", figure)
	}
	for _, w := range warnings() {
		e.Warnings = append(e.Warnings, w.Message)
	}
	return e, nil
}

func explained(b delivery.Build, rule string) ExplainedBuild {
	return ExplainedBuild{Repository: b.Repository, ID: b.ID, Name: b.Name, Branch: b.Branch, Status: b.Status, Attempt: b.Attempt,
		StartedAt: b.StartedAt, FinishedAt: b.FinishedAt, Rule: rule}
}

func sortedBuilds(bs []delivery.Build) []delivery.Build {
	out := slices.Clone(bs)
	slices.SortFunc(out, func(a, b delivery.Build) int {
		return cmp.Or(cmp.Compare(a.Repository, b.Repository), a.FinishedAt.Compare(b.FinishedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}
