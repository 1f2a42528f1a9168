package digest

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/dora"
)

// Subject is the digest's e-mail subject and chat title.
func Subject(d Digest) string {
	return fmt.Sprintf("Stride weekly digest: %s, week of %s", d.Team, d.WeekFrom.Format("2 Jan 2006"))
}

// optDuration prints a duration figure, "none" when there is none.
func optDuration(v *float64) string {
	if v == nil {
		return "none"
	}
	return Duration(*v)
}

func optPercent(v *float64) string {
	if v == nil {
		return "none"
	}
	return Percent(*v)
}

func optDays(v *float64) string {
	if v == nil {
		return "none"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// plural counts things in words: 1 change, 2 changes.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

func day(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006") }

// lastDay is the last day of a period that ends at to (exclusive).
func lastDay(to time.Time) string { return day(to.Add(-time.Nanosecond)) }

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Text renders the digest as the plain text of its e-mail.
func Text(d Digest) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("%s", d.Headline)
	line("")
	line("%s", Subject(d))
	line("Figures of %s to %s (UTC); the week covered is %s to %s.", day(d.From), lastDay(d.To), day(d.WeekFrom), lastDay(d.WeekTo))
	line("")
	line("Figures")
	f := d.Figures
	line("  Deployments                  %d", f.Deployments)
	line("  Deployment days a week       %s (median)", optDays(f.DeploymentDaysPerWeek))
	line("  Lead time                    %s (median of %s)", optDuration(f.LeadTimeMedianSeconds), plural(f.ChangesShipped, "change"))
	line("  Change failure rate          %s (%d of %d deployments)", optPercent(f.ChangeFailureRate), f.FailedDeployments, f.Deployments)
	line("  Time to restore              %s (median of %s)", optDuration(f.TimeToRestoreMedianSecs), plural(f.IncidentsResolved, "incident"))
	if f.Tier != "" {
		line("  Tier                         %s", f.Tier)
	}
	line("")
	line("Targets")
	if len(d.Targets) == 0 {
		line("  No targets are set for team %s (stride.yaml, teams: targets:).", d.Team)
	}
	for _, t := range d.Targets {
		line("  %-8s %s", t.Met, t.Sentence)
	}
	line("")
	line("Trend, last %d weeks (week, deployments, deployment days, median lead time, change failure rate, median time to restore)", len(d.Trend))
	for _, w := range d.Trend {
		line("  %s %-10s %3d %2d  %-8s %-8s %s", w.Week, w.Start.Format("2 Jan"), w.Deployments, w.DeploymentDays,
			optDuration(w.LeadTimeMedianSeconds), optPercent(w.ChangeFailureRate), optDuration(w.TimeToRestoreMedianSecs))
	}
	line("")
	line("What changed most")
	if len(d.Changes) == 0 {
		line("  No key moved against the weeks before.")
	}
	for _, c := range d.Changes {
		line("  - %s", c.Sentence)
	}
	line("")
	line("Biggest lead-time contributors, week of %s", d.WeekFrom.Format("2 Jan"))
	if len(d.LeadTimeContributors) == 0 {
		line("  No change was shipped that week.")
	}
	for _, c := range d.LeadTimeContributors {
		line("  - %s %s (%s, deployment %s): %s, %s of the week's lead time", c.Repository, short(c.SHA), c.Service, c.Deployment,
			Duration(c.LeadTimeSeconds), Percent(c.Share))
	}
	line("")
	line("Open SLA breaches")
	if len(d.OpenBreaches) == 0 {
		line("  None: no open incident is past its acknowledgement SLA.")
	}
	for _, x := range d.OpenBreaches {
		line("  - %s", breachText(x))
	}
	line("")
	line("SLO error budgets")
	if len(d.Budgets) == 0 {
		line("  No SLO is defined for the team's services.")
	}
	for _, x := range d.Budgets {
		line("  - [%s] %s", x.State, x.Sentence)
	}
	if len(d.Warnings) > 0 {
		line("")
		line("Warnings")
		for _, w := range d.Warnings {
			line("  - %s", w)
		}
	}
	if d.Link != "" {
		line("")
		line("On the dashboard: %s", d.Link)
	}
	return b.String()
}

func breachText(x Breach) string {
	title := x.Title
	if title == "" {
		title = "incident " + x.ID
	}
	state := "not acknowledged"
	if x.Acknowledged {
		state = "acknowledged late"
	}
	return fmt.Sprintf("SEV%d %s/%s: %s, opened %s, due %s, %s", x.Severity, x.Service, x.ID, title,
		x.OpenedAt.Format("2 Jan 15:04 MST"), x.SLADueAt.Format("2 Jan 15:04 MST"), state)
}

// Chat renders the digest as a Slack-compatible mrkdwn message.
func Chat(d Digest) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("*%s*", d.Headline)
	line("%s (figures of %s to %s)", Subject(d), d.From.Format("2 Jan"), d.To.Add(-time.Nanosecond).Format("2 Jan"))
	f := d.Figures
	line("• Deployments: %d, %s deployment days a week • Lead time: %s • Change failure rate: %s • Time to restore: %s",
		f.Deployments, optDays(f.DeploymentDaysPerWeek), optDuration(f.LeadTimeMedianSeconds), optPercent(f.ChangeFailureRate), optDuration(f.TimeToRestoreMedianSecs))
	if len(d.Targets) > 0 {
		line("*Targets*")
		for _, t := range d.Targets {
			line("%s %s", metMark(t.Met), t.Sentence)
		}
	}
	if len(d.Changes) > 0 {
		line("*What changed most*")
		for _, c := range d.Changes {
			line("• %s", c.Sentence)
		}
	}
	if len(d.LeadTimeContributors) > 0 {
		line("*Biggest lead-time contributors*")
		for _, c := range d.LeadTimeContributors {
			line("• %s `%s` (%s, deployment %s): %s, %s of the week's lead time", c.Repository, short(c.SHA), c.Service, c.Deployment,
				Duration(c.LeadTimeSeconds), Percent(c.Share))
		}
	}
	line("*Open SLA breaches*: %d", len(d.OpenBreaches))
	for _, x := range d.OpenBreaches {
		line("• %s", breachText(x))
	}
	if len(d.Budgets) > 0 {
		line("*SLO error budgets*")
		for _, x := range d.Budgets {
			line("• [%s] %s", x.State, x.Sentence)
		}
	}
	if d.Link != "" {
		line("<%s|The digest on the dashboard>", d.Link)
	}
	return b.String()
}

func metMark(m dora.Met) string {
	switch m {
	case dora.MetYes:
		return "✅"
	case dora.MetNo:
		return "❌"
	}
	return "❔"
}

//go:embed digest.html
var htmlSource string

var htmlTemplate = template.Must(template.New("digest").Funcs(template.FuncMap{
	"duration": optDuration, "percent": optPercent, "days": optDays, "day": day, "lastDay": lastDay, "short": short,
	"dur": Duration, "plural": plural, "pct": Percent, "breach": breachText, "subject": Subject,
	"date": func(t time.Time) string { return t.Format("2 Jan") },
}).Parse(htmlSource))

// HTML renders the digest as the HTML alternative of its e-mail: a whole
// document with inline styles only, as mail clients drop style sheets.
func HTML(d Digest) (string, error) {
	var b bytes.Buffer
	if err := htmlTemplate.ExecuteTemplate(&b, "document", d); err != nil {
		return "", fmt.Errorf("render digest of %s: %w", d.Team, err)
	}
	return b.String(), nil
}

// Fragment renders the digest's body alone, for the dashboard's page: the
// same markup as the e-mail's, inside the page's own layout.
func Fragment(d Digest) (template.HTML, error) {
	var b bytes.Buffer
	if err := htmlTemplate.ExecuteTemplate(&b, "body", d); err != nil {
		return "", fmt.Errorf("render digest of %s: %w", d.Team, err)
	}
	return template.HTML(b.String()), nil // html/template escaped every value
}
