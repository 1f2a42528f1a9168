package sources

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestRegistryDeclaresEachSourceOnce(t *testing.T) {
	want := []string{"alertmanager", "argocd", "cdevents", "github", "gitlab", "jira", "pagerduty", "sonarqube"}
	var got []string
	for _, c := range All {
		got = append(got, c.Name)
		if c.Credential.Field == "" || (c.Credential.Flag != "secret" && c.Credential.Flag != "token") {
			t.Errorf("%s: credential %+v names no field or flag", c.Name, c.Credential)
		}
		cfg := c.Config()
		if reflect.TypeOf(cfg).Kind() != reflect.Pointer || reflect.TypeOf(cfg).Elem().Kind() != reflect.Struct {
			t.Errorf("%s: Config returns %T, want a pointer to a struct", c.Name, cfg)
		}
		src, err := c.New(cfg, delivery.Mapping{})
		if err != nil || src.Name() != c.Name {
			t.Errorf("%s: New with the zero config: %v, %v", c.Name, src, err)
		}
		if l, ok := Lookup(c.Name); !ok || l.Name != c.Name {
			t.Errorf("Lookup(%q) = %v, %v", c.Name, l.Name, ok)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
	if _, ok := Lookup("bitbucket"); ok {
		t.Error("Lookup found a source that has no connector")
	}
	if Names() != strings.Join(want, ", ") {
		t.Errorf("Names() = %q", Names())
	}
}

// TestHeadersAreTheOnesRawDeliveriesKept checks that the connectors declare
// the headers the server kept in one list before the registry.
func TestHeadersAreTheOnesRawDeliveriesKept(t *testing.T) {
	want := []string{
		"Content-Type", "User-Agent",
		"X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID",
		"X-Gitlab-Event", "X-Gitlab-Event-UUID", "Idempotency-Key",
		"X-Atlassian-Webhook-Identifier",
		"Ce-Id", "Ce-Type", "Ce-Source", "Ce-Specversion", "Ce-Time", "Ce-Subject",
		"X-SonarQube-Project",
	}
	got := Headers()
	if !slices.Equal(got[:2], []string{"Content-Type", "User-Agent"}) {
		t.Errorf("the common headers do not come first: %q", got)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("headers %q\nwant %q", got, want)
	}
}
