package slo

import (
	"errors"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestPushValidate(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ok := Push{SLO: "api-availability", Start: t0, End: t0.Add(time.Minute), Good: 99, Total: 100}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a valid push: %v", err)
	}
	if b := ok.Bucket(); b.Width != time.Minute || b.Good != 99 || b.Total != 100 || !b.Start.Equal(t0) {
		t.Errorf("bucket = %+v", b)
	}
	cases := []struct {
		name  string
		edit  func(*Push)
		field string
	}{
		{"no slo or service", func(p *Push) { p.SLO = "" }, "slo"},
		{"both slo and service", func(p *Push) { p.Service = "api" }, "service"},
		{"a start off the minute", func(p *Push) { p.Start = p.Start.Add(time.Second) }, "start"},
		{"an end before the start", func(p *Push) { p.End = p.Start }, "end"},
		{"90 seconds", func(p *Push) { p.End = p.Start.Add(90 * time.Second) }, "end"},
		{"two hours", func(p *Push) { p.End = p.Start.Add(2 * time.Hour) }, "end"},
		{"more good than total", func(p *Push) { p.Good = 101 }, "good"},
		{"a negative total", func(p *Push) { p.Total, p.Good = -1, 0 }, "total"},
	}
	for _, c := range cases {
		p := ok
		c.edit(&p)
		var e *delivery.Error
		if err := p.Validate(); !errors.As(err, &e) || e.Field != c.field || e.Code != delivery.EINVALID {
			t.Errorf("%s: error %v, want EINVALID on %s", c.name, err, c.field)
		}
	}
}
