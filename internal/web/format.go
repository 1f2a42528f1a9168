package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
)

// defaultDays is the length of the default period: four weeks ending today.
const defaultDays = 28

// periodView is the period of a page as the filter form shows it.
type periodView struct {
	From, To string
	from, to time.Time
	// explicit is true when the query named the period, so links carry it.
	explicit bool
	now      time.Time
}

// parsePeriod reads ?from= and ?to= (a date or an RFC 3339 time, as the
// API takes them); without them the period is the last four weeks up to the
// end of today (UTC).
func parsePeriod(q url.Values, now time.Time) (periodView, error) {
	end := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	p := periodView{to: end, from: end.AddDate(0, 0, -defaultDays), now: now}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &p.from}, {"to", &p.to}} {
		v := strings.TrimSpace(q.Get(f.name))
		if v == "" {
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			return p, delivery.FieldError(f.name, "%q is neither a date (2026-03-01) nor an RFC 3339 time", v)
		}
		*f.dst, p.explicit = t, true
	}
	if !p.from.Before(p.to) {
		return p, delivery.FieldError("to", "the period must end after it starts (%s → %s)", p.from.Format(time.DateOnly), p.to.Format(time.DateOnly))
	}
	p.From, p.To = timeParam(p.from), timeParam(p.to)
	return p, nil
}

func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t.UTC(), err
}

// timeParam prints a period bound as a date when it is midnight UTC, the
// form the date inputs take, else as RFC 3339.
func timeParam(t time.Time) string {
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// Text says the period in words.
func (p periodView) Text() string {
	return p.from.Format("2 Jan 2006") + " – " + p.to.Add(-time.Nanosecond).Format("2 Jan 2006")
}

// dur shows seconds in the two largest units (2d 3h, 4h 20m, 12m 5s), as
// the CLI prints them.
func dur(sec float64) string {
	sign := ""
	if sec < 0 {
		sign, sec = "-", -sec
	}
	total := int64(sec + 0.5)
	d, h, m, s := total/86400, total%86400/3600, total%3600/60, total%60
	switch {
	case d > 0:
		return fmt.Sprintf("%s%dd %dh", sign, d, h)
	case h > 0:
		return fmt.Sprintf("%s%dh %dm", sign, h, m)
	case m > 0:
		return fmt.Sprintf("%s%dm %ds", sign, m, s)
	}
	return fmt.Sprintf("%s%ds", sign, s)
}

func durP(sec *float64) string {
	if sec == nil {
		return none
	}
	return dur(*sec)
}

func pct(v *float64) string {
	if v == nil {
		return none
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + " %"
}

func num(v *float64, prec int) string {
	if v == nil {
		return none
	}
	return strconv.FormatFloat(*v, 'f', prec, 64)
}

func tierText(t *dora.Tier) string {
	if t == nil {
		return ""
	}
	return string(*t)
}

func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func shortSHA(sha string) string {
	if len(sha) > 10 {
		return sha[:10]
	}
	return sha
}

// funcs are the template helpers.
var funcs = template.FuncMap{
	"badge":     badgeClass,
	"badgeText": badgeText,
}

// badgeClass is the stylesheet class of a badge word: tiers and answers
// have their own, any other note a plain one.
func badgeClass(b string) string {
	switch b {
	case "elite", "high", "medium", "low":
		return "tier tier-" + b
	case "met-yes", "met-no", "met-unknown", "allowed-yes", "allowed-no":
		return b
	}
	return "note"
}

// badgeText is the word a badge shows: "met-yes" reads "yes".
func badgeText(b string) string {
	if _, after, ok := strings.Cut(b, "-"); ok && (strings.HasPrefix(b, "met-") || strings.HasPrefix(b, "allowed-")) {
		return after
	}
	return b
}
