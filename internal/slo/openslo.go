package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stride-oss/stride/internal/delivery"
)

// The OpenSLO v1 documents Stride reads, as strict typed structs: a field
// not listed here is an error, so a typo never silently changes an SLO.

type osHeader struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
}

type osMetadata struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName"`
	Labels      map[string]any    `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type osSourceSpec struct {
	Query string `yaml:"query"`
}

type osMetricSource struct {
	MetricSourceRef string       `yaml:"metricSourceRef"`
	Type            string       `yaml:"type"`
	Spec            osSourceSpec `yaml:"spec"`
}

type osMetric struct {
	MetricSource osMetricSource `yaml:"metricSource"`
}

type osRatio struct {
	Counter bool      `yaml:"counter"`
	Good    *osMetric `yaml:"good"`
	Bad     *osMetric `yaml:"bad"`
	Total   *osMetric `yaml:"total"`
}

type osSLISpec struct {
	Description string   `yaml:"description"`
	RatioMetric *osRatio `yaml:"ratioMetric"`
}

type osSLI struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   osMetadata `yaml:"metadata"`
	Spec       osSLISpec  `yaml:"spec"`
}

type osInlineSLI struct {
	Metadata osMetadata `yaml:"metadata"`
	Spec     osSLISpec  `yaml:"spec"`
}

type osCalendar struct {
	StartTime string `yaml:"startTime"`
	TimeZone  string `yaml:"timeZone"`
}

type osTimeWindow struct {
	Duration  string      `yaml:"duration"`
	IsRolling bool        `yaml:"isRolling"`
	Calendar  *osCalendar `yaml:"calendar"`
}

// decimal keeps a YAML number as written, so 0.999 is parsed exactly.
type decimal struct {
	set  bool
	text string
}

func (d *decimal) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("must be a number")
	}
	d.set, d.text = true, n.Value
	return nil
}

type osObjective struct {
	DisplayName     string  `yaml:"displayName"`
	Op              string  `yaml:"op"`
	Value           decimal `yaml:"value"`
	Target          decimal `yaml:"target"`
	TargetPercent   decimal `yaml:"targetPercent"`
	TimeSliceTarget decimal `yaml:"timeSliceTarget"`
	TimeSliceWindow string  `yaml:"timeSliceWindow"`
}

type osSLOSpec struct {
	Description     string         `yaml:"description"`
	Service         string         `yaml:"service"`
	IndicatorRef    string         `yaml:"indicatorRef"`
	Indicator       *osInlineSLI   `yaml:"indicator"`
	TimeWindow      []osTimeWindow `yaml:"timeWindow"`
	BudgetingMethod string         `yaml:"budgetingMethod"`
	Objectives      []osObjective  `yaml:"objectives"`
}

type osSLO struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   osMetadata `yaml:"metadata"`
	Spec       osSLOSpec  `yaml:"spec"`
}

// docError builds an EINVALID error naming the field and the document.
func docError(doc int, kind, name, field, format string, args ...any) error {
	where := fmt.Sprintf("document %d", doc)
	if name != "" {
		where += fmt.Sprintf(" (%s %s)", kind, name)
	}
	return delivery.FieldError(field, "%s: %s", where, fmt.Sprintf(format, args...))
}

var (
	yamlTypeNote = regexp.MustCompile(` in type [\w.]+`)
	unknownField = regexp.MustCompile(`field (\S+) not found`)
)

// ParseOpenSLO reads a multi-document OpenSLO v1 file of SLO and SLI
// documents and returns the SLOs, each with its indicator resolved (an SLO
// names an SLI document with indicatorRef or inlines it). Unknown fields,
// an objective outside (0, 1), a duplicate name and an unknown SLI are
// EINVALID errors naming the document (counted from 1) and the field.
func ParseOpenSLO(r io.Reader) ([]SLO, error) {
	dec := yaml.NewDecoder(r)
	type raw struct {
		doc  int
		node *yaml.Node
		head osHeader
	}
	var docs []raw
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, delivery.Errorf(delivery.EINVALID, "document %d: %s", i, err)
		}
		var h osHeader
		_ = n.Decode(&h) // strict checks follow; a wrong shape is reported there
		docs = append(docs, raw{doc: i, node: &n, head: h})
	}
	if len(docs) == 0 {
		return nil, delivery.Errorf(delivery.EINVALID, "no OpenSLO document")
	}

	strict := func(d raw, into any) error {
		var buf bytes.Buffer
		if err := yaml.NewEncoder(&buf).Encode(d.node); err != nil {
			return fmt.Errorf("document %d: %w", d.doc, err)
		}
		sd := yaml.NewDecoder(&buf)
		sd.KnownFields(true)
		if err := sd.Decode(into); err != nil {
			msg := yamlTypeNote.ReplaceAllString(err.Error(), "")
			msg = strings.ReplaceAll(strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  "), "\n  ", "; ")
			field := ""
			if m := unknownField.FindStringSubmatch(msg); m != nil {
				// The strict pass read a copy of the document, so its line
				// numbers are the copy's: name the line of the file instead.
				field = m[1]
				msg = "field " + field + " is not part of OpenSLO v1 as Stride reads it"
				if line := keyLine(d.node, field); line > 0 {
					msg = fmt.Sprintf("line %d: %s", line, msg)
				}
			}
			return docError(d.doc, d.head.Kind, d.head.Metadata.Name, field, "%s", msg)
		}
		return nil
	}

	slis := map[string]Indicator{}
	var slos []osSLO
	var sloDocs []raw
	for _, d := range docs {
		h := d.head
		if h.APIVersion != "openslo/v1" {
			return nil, docError(d.doc, h.Kind, h.Metadata.Name, "apiVersion", "%q is not openslo/v1", h.APIVersion)
		}
		if h.Metadata.Name == "" {
			return nil, docError(d.doc, h.Kind, "", "metadata.name", "is required")
		}
		switch h.Kind {
		case "SLI":
			var s osSLI
			if err := strict(d, &s); err != nil {
				return nil, err
			}
			if _, dup := slis[s.Metadata.Name]; dup {
				return nil, docError(d.doc, "SLI", s.Metadata.Name, "metadata.name", "SLI %s is defined twice", s.Metadata.Name)
			}
			ind, err := indicatorOf(d.doc, "SLI", s.Metadata.Name, "spec", s.Metadata.Name, s.Spec)
			if err != nil {
				return nil, err
			}
			slis[s.Metadata.Name] = ind
		case "SLO":
			var s osSLO
			if err := strict(d, &s); err != nil {
				return nil, err
			}
			slos = append(slos, s)
			sloDocs = append(sloDocs, d)
		default:
			return nil, docError(d.doc, h.Kind, h.Metadata.Name, "kind", "%q is neither SLO nor SLI", h.Kind)
		}
	}

	var out []SLO
	seen := map[string]bool{}
	for i, s := range slos {
		doc := sloDocs[i].doc
		name := s.Metadata.Name
		if seen[name] {
			return nil, docError(doc, "SLO", name, "metadata.name", "SLO %s is defined twice", name)
		}
		seen[name] = true
		v, err := sloOf(doc, s, slis)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, delivery.Errorf(delivery.EINVALID, "no SLO document (kind: SLO)")
	}
	return out, nil
}

func indicatorOf(doc int, kind, name, at, sliName string, spec osSLISpec) (Indicator, error) {
	rm := spec.RatioMetric
	if rm == nil {
		return Indicator{}, docError(doc, kind, name, at+".ratioMetric", "is required (Stride supports ratio SLIs)")
	}
	ind := Indicator{Name: sliName}
	source := func(field string, m *osMetric) (*Source, error) {
		ms := m.MetricSource
		switch ms.Type {
		case SourceStride:
			if ms.Spec.Query != "" {
				return nil, docError(doc, kind, name, field+".metricSource.spec.query", "a stride source is pushed, it has no query")
			}
		case SourcePrometheus:
			if strings.TrimSpace(ms.Spec.Query) == "" {
				return nil, docError(doc, kind, name, field+".metricSource.spec.query", "is required for a prometheus source")
			}
		default:
			return nil, docError(doc, kind, name, field+".metricSource.type", "%q is neither stride nor prometheus", ms.Type)
		}
		return &Source{Type: ms.Type, Query: ms.Spec.Query}, nil
	}
	p := at + ".ratioMetric"
	switch {
	case rm.Total == nil:
		return Indicator{}, docError(doc, kind, name, p+".total", "is required")
	case rm.Good == nil && rm.Bad == nil:
		return Indicator{}, docError(doc, kind, name, p+".good", "good or bad is required")
	case rm.Good != nil && rm.Bad != nil:
		return Indicator{}, docError(doc, kind, name, p+".bad", "give good or bad, not both")
	}
	var err error
	if rm.Good != nil {
		if ind.Good, err = source(p+".good", rm.Good); err != nil {
			return Indicator{}, err
		}
	} else if ind.Bad, err = source(p+".bad", rm.Bad); err != nil {
		return Indicator{}, err
	}
	t, err := source(p+".total", rm.Total)
	if err != nil {
		return Indicator{}, err
	}
	ind.Total = *t
	num := ind.Good
	if num == nil {
		num = ind.Bad
	}
	if num.Type != t.Type {
		return Indicator{}, docError(doc, kind, name, p+".total.metricSource.type", "%s, but the other metric is %s: both must come from one source", t.Type, num.Type)
	}
	return ind, nil
}

func sloOf(doc int, s osSLO, slis map[string]Indicator) (SLO, error) {
	name := s.Metadata.Name
	fail := func(field, format string, args ...any) (SLO, error) {
		return SLO{}, docError(doc, "SLO", name, field, format, args...)
	}
	out := SLO{Name: name, Service: s.Spec.Service, Description: s.Spec.Description}
	if out.Service == "" {
		return fail("spec.service", "is required")
	}
	switch {
	case s.Spec.Indicator != nil && s.Spec.IndicatorRef != "":
		return fail("spec.indicatorRef", "give indicatorRef or indicator, not both")
	case s.Spec.Indicator != nil:
		sliName := s.Spec.Indicator.Metadata.Name
		if sliName == "" {
			sliName = name
		}
		ind, err := indicatorOf(doc, "SLO", name, "spec.indicator.spec", sliName, s.Spec.Indicator.Spec)
		if err != nil {
			return SLO{}, err
		}
		out.Indicator = ind
	case s.Spec.IndicatorRef != "":
		ind, ok := slis[s.Spec.IndicatorRef]
		if !ok {
			return fail("spec.indicatorRef", "no SLI document is named %s", s.Spec.IndicatorRef)
		}
		out.Indicator = ind
	default:
		return fail("spec.indicator", "indicator or indicatorRef is required")
	}

	if len(s.Spec.TimeWindow) != 1 {
		return fail("spec.timeWindow", "give exactly one time window, not %d", len(s.Spec.TimeWindow))
	}
	tw := s.Spec.TimeWindow[0]
	if tw.IsRolling {
		if tw.Calendar != nil {
			return fail("spec.timeWindow[0].calendar", "a rolling window has no calendar")
		}
		d, err := parseDuration(tw.Duration)
		if err != nil || d < time.Hour {
			return fail("spec.timeWindow[0].duration", "%q is not a rolling window such as 28d or 30d", tw.Duration)
		}
		out.Window.Rolling = d
	} else {
		switch tw.Duration {
		case "1w":
			out.Window.Calendar = Week
		case "1M":
			out.Window.Calendar = Month
		default:
			return fail("spec.timeWindow[0].duration", "%q: a calendar window is 1w or 1M", tw.Duration)
		}
		if tw.Calendar == nil {
			return fail("spec.timeWindow[0].calendar", "is required when isRolling is false")
		}
		loc, err := time.LoadLocation(tw.Calendar.TimeZone)
		if err != nil || tw.Calendar.TimeZone == "" {
			return fail("spec.timeWindow[0].calendar.timeZone", "%q is not a time zone", tw.Calendar.TimeZone)
		}
		start, err := parseStart(tw.Calendar.StartTime, loc)
		if err != nil {
			return fail("spec.timeWindow[0].calendar.startTime", "%q is neither 2006-01-02 15:04:05 nor RFC 3339", tw.Calendar.StartTime)
		}
		if out.Window.Calendar == Month && start.Day() > 28 {
			return fail("spec.timeWindow[0].calendar.startTime", "a monthly window starts on day 1 to 28, so every month has that day")
		}
		out.Window.Start = start
	}

	if len(s.Spec.Objectives) != 1 {
		return fail("spec.objectives", "give exactly one objective, not %d", len(s.Spec.Objectives))
	}
	o := s.Spec.Objectives[0]
	if o.Op != "" || o.Value.set {
		return fail("spec.objectives[0].value", "threshold objectives are not supported; give target")
	}
	var target Fraction
	switch {
	case o.Target.set && o.TargetPercent.set:
		return fail("spec.objectives[0].targetPercent", "give target or targetPercent, not both")
	case o.Target.set:
		f, err := fractionOf(o.Target.text)
		if err != nil {
			return fail("spec.objectives[0].target", "%v", err)
		}
		target = f
	case o.TargetPercent.set:
		f, err := fractionOf(o.TargetPercent.text)
		if err != nil {
			return fail("spec.objectives[0].targetPercent", "%v", err)
		}
		r := new(big.Rat).Quo(f.Rat(), big.NewRat(100, 1))
		target = Fraction{Num: r.Num().Int64(), Den: r.Denom().Int64()}
	default:
		return fail("spec.objectives[0].target", "is required")
	}
	if target.Num <= 0 || target.Num >= target.Den {
		field := "spec.objectives[0].target"
		if o.TargetPercent.set {
			field = "spec.objectives[0].targetPercent"
		}
		return fail(field, "%s is not between 0 and 1 (both excluded)", target)
	}
	out.Objective = target

	switch Method(s.Spec.BudgetingMethod) {
	case Occurrences:
		out.Method = Occurrences
		if o.TimeSliceTarget.set || o.TimeSliceWindow != "" {
			return fail("spec.objectives[0].timeSliceTarget", "only Timeslices budgets have time slices")
		}
	case Timeslices:
		out.Method = Timeslices
		if !o.TimeSliceTarget.set {
			return fail("spec.objectives[0].timeSliceTarget", "is required for Timeslices")
		}
		f, err := fractionOf(o.TimeSliceTarget.text)
		if err != nil || f.Num <= 0 || f.Num > f.Den {
			return fail("spec.objectives[0].timeSliceTarget", "%q is not in (0, 1]", o.TimeSliceTarget.text)
		}
		out.SliceTarget = f
		d, err := parseDuration(o.TimeSliceWindow)
		if err != nil || d < time.Minute || d%time.Minute != 0 || (24*time.Hour)%d != 0 {
			return fail("spec.objectives[0].timeSliceWindow", "%q is not a whole number of minutes dividing a day (1m, 5m, 1h)", o.TimeSliceWindow)
		}
		out.SliceWindow = d
	default:
		return fail("spec.budgetingMethod", "%q is neither Occurrences nor Timeslices", s.Spec.BudgetingMethod)
	}
	return out, nil
}

// parseDuration reads OpenSLO durations: a count and a unit of m, h, d or
// w (minutes, hours, days, weeks).
func parseDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return time.Duration(n) * unit, nil
}

func parseStart(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.In(loc), nil
}

// keyLine returns the line of the first mapping key named name under n,
// 0 if there is none.
func keyLine(n *yaml.Node, name string) int {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				return n.Content[i].Line
			}
		}
	}
	for _, c := range n.Content {
		if l := keyLine(c, name); l > 0 {
			return l
		}
	}
	return 0
}
