package ingest

import (
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
