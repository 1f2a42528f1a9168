package ingest

import (
	"net/http"
	"strings"
	"testing"
)

func TestVerifyToken(t *testing.T) {
	headers := []string{"Authorization", "X-Stride-Token"}
	cases := []struct {
		name    string
		want    string
		headers []string
		set     map[string]string
		err     string // "" when the token must be accepted
	}{
		{"a bearer token is accepted", "s3cret", headers, map[string]string{"Authorization": "Bearer s3cret"}, ""},
		{"the scheme ignores case and spaces around the token", "s3cret", headers, map[string]string{"Authorization": "bearer   s3cret "}, ""},
		{"the fallback header is accepted", "s3cret", headers, map[string]string{"X-Stride-Token": "s3cret"}, ""},
		{"a non-bearer Authorization falls through to the next header", "s3cret", headers, map[string]string{"Authorization": "Basic abc", "X-Stride-Token": "s3cret"}, ""},
		{"the first header carrying a token decides", "s3cret", headers, map[string]string{"Authorization": "Bearer wrong", "X-Stride-Token": "s3cret"}, "does not match"},
		{"a wrong token is refused", "s3cret", headers, map[string]string{"X-Stride-Token": "s3cre"}, "does not match"},
		{"no token is refused, naming the headers", "s3cret", headers, nil, "Authorization (bearer) or X-Stride-Token"},
		{"an empty bearer is no token", "s3cret", headers, map[string]string{"Authorization": "Bearer "}, "no token in"},
		{"a header not listed is not read", "s3cret", []string{"X-Gitlab-Token"}, map[string]string{"X-Stride-Token": "s3cret"}, "no token in X-Gitlab-Token"},
		{"nothing configured refuses everything", "", headers, map[string]string{"X-Stride-Token": ""}, "no token is configured"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range c.set {
				h.Set(k, v)
			}
			err := VerifyToken(h, c.want, c.headers...)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("got %v, want an error containing %q", err, c.err)
			}
		})
	}
}
