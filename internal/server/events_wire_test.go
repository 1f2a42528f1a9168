package server

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// serverSide are the exported fields of the domain entities that the events
// API deliberately does not take, each with why.
var serverSide = map[string]string{
	"Event.Source":        "stamped by intake from the writer (api), never sent",
	"Event.Known":         "set by intake from the store and the batch: which required fields a partial report may leave out",
	"Incident.SeverityAt": "the UpdatedAt of the report that gave the severity, set when the report is validated",
	"Incident.StatusAt":   "the UpdatedAt of the report that gave the status, set when the report is validated",
	"Incident.Source":     "stamped by intake with the writer's source, so an incident from PagerDuty is not paged back",
	"WorkItem.DetailAt":   "the UpdatedAt of the report that gave labels, priority, assignee and services, set when the report is validated",
}

// wirePairs pairs each domain type with its wire type.
var wirePairs = []struct{ domain, wire reflect.Type }{
	{reflect.TypeFor[delivery.Event](), reflect.TypeFor[wireEvent]()},
	{reflect.TypeFor[delivery.Change](), reflect.TypeFor[wireChange]()},
	{reflect.TypeFor[delivery.Deployment](), reflect.TypeFor[wireDeployment]()},
	{reflect.TypeFor[delivery.Incident](), reflect.TypeFor[wireIncident]()},
	{reflect.TypeFor[delivery.PullRequest](), reflect.TypeFor[wirePullRequest]()},
	{reflect.TypeFor[delivery.WorkItem](), reflect.TypeFor[wireWorkItem]()},
	{reflect.TypeFor[delivery.Build](), reflect.TypeFor[wireBuild]()},
}

// nestedPairs pairs the types inside entities with their wire types.
var nestedPairs = []struct{ domain, wire reflect.Type }{
	{reflect.TypeFor[delivery.SprintMembership](), reflect.TypeFor[wireSprintMembership]()},
	{reflect.TypeFor[delivery.Transition](), reflect.TypeFor[wireTransition]()},
}

// TestEveryDomainFieldHasAWireCounterpart fails when a field is added to a
// domain entity and not to the events API (as Change.Paths once was), or
// the other way round, unless it is listed in serverSide.
func TestEveryDomainFieldHasAWireCounterpart(t *testing.T) {
	for _, p := range append(slices.Clone(wirePairs), nestedPairs...) {
		for i := range p.domain.NumField() {
			f := p.domain.Field(i)
			name := p.domain.Name() + "." + f.Name
			_, hasWire := p.wire.FieldByName(f.Name)
			_, deliberate := serverSide[name]
			switch {
			case !f.IsExported():
			case hasWire && deliberate:
				t.Errorf("%s is in the wire type and listed as server-side: drop one", name)
			case !hasWire && !deliberate:
				t.Errorf("%s has no counterpart in %s: add it (with a snake_case json name) or list it in serverSide", name, p.wire.Name())
			}
		}
		for i := range p.wire.NumField() {
			f := p.wire.Field(i)
			if _, ok := p.domain.FieldByName(f.Name); !ok && !(p.wire.Name() == "wireEvent" && f.Name == "IdempotencyKey") {
				t.Errorf("%s.%s has no domain field", p.wire.Name(), f.Name)
			}
			if tag := f.Tag.Get("json"); tag == "" || tag != strings.ToLower(tag) {
				t.Errorf("%s.%s has json name %q, want snake_case", p.wire.Name(), f.Name, tag)
			}
		}
	}
}

// TestEveryWireFieldReachesTheDomain sets every field of each wire entity
// and checks that event() carries each into the domain entity: a field
// declared but not copied is drift too.
func TestEveryWireFieldReachesTheDomain(t *testing.T) {
	w := wireEvent{Key: "k", Kind: "change"}
	for _, p := range []any{&w.Change, &w.Deployment, &w.Incident, &w.PullRequest, &w.WorkItem, &w.Build} {
		v := reflect.ValueOf(p).Elem() // the *wireX field
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem())
	}
	e := reflect.ValueOf(w.event())
	for _, p := range wirePairs[1:] {
		var entity reflect.Value
		for i := range e.NumField() {
			if f := e.Field(i); f.Kind() == reflect.Pointer && f.Type().Elem() == p.domain {
				entity = f.Elem()
			}
		}
		if !entity.IsValid() {
			t.Fatalf("event() dropped the %s", p.domain.Name())
		}
		for i := range p.domain.NumField() {
			name := p.domain.Name() + "." + p.domain.Field(i).Name
			if _, deliberate := serverSide[name]; !deliberate && entity.Field(i).IsZero() {
				t.Errorf("%s is zero: event() does not copy it from %s", name, p.wire.Name())
			}
		}
	}
	item := w.event().WorkItem
	for _, nested := range []any{item.Sprints[0], item.Transitions[0]} {
		v := reflect.ValueOf(nested)
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("%s.%s is zero: event() does not copy it", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
}

// fill sets every field of the struct v to a non-zero value.
func fill(t *testing.T, v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)))
		case f.Kind() == reflect.String:
			f.SetString("x")
		case f.Kind() == reflect.Int:
			f.SetInt(1)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{"x"}))
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			fill(t, s.Index(0))
			f.Set(s)
		case f.Kind() == reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			switch p.Elem().Kind() {
			case reflect.Int:
				p.Elem().SetInt(1)
			case reflect.Float64:
				p.Elem().SetFloat(1.5)
			case reflect.Bool:
				p.Elem().SetBool(true)
			default:
				t.Fatalf("fill: no value for %s", f.Type())
			}
			f.Set(p)
		default:
			t.Fatalf("fill: no value for %s %s", v.Type().Field(i).Name, f.Type())
		}
	}
}
