package ingest

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestTouchedPaths(t *testing.T) {
	if got := TouchedPaths(nil, nil, nil); got != nil {
		t.Errorf("no lists must leave the paths unknown, got %#v", got)
	}
	if got := TouchedPaths([]string{}, nil, nil); got == nil || len(got) != 0 {
		t.Errorf("empty lists mean nothing touched, got %#v", got)
	}
	if got := TouchedPaths([]string{"a"}, []string{"b"}, []string{"c"}); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("got %#v", got)
	}
}

func TestKeptHeadersAreTheCommonAndTheConnectorsOwn(t *testing.T) {
	c := Connector{Name: "x", Headers: []string{"X-Event"}}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Event", "push")
	h.Set("Authorization", "Bearer secret")
	h.Set("X-Other", "y")
	got := c.KeptHeaders(h)
	want := http.Header{"Content-Type": {"application/json"}, "X-Event": {"push"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}
