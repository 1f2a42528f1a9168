package rings

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// checkFlagd applies the structural rules of flagd's flags schema
// (https://flagd.dev/schema/v0/flags.json and its targeting schema) to a
// file, without the network: the top level holds only $schema, flags,
// $evaluators and metadata; each flag has a state of ENABLED or DISABLED,
// at least one variant, all variants of one JSON type, a defaultVariant
// naming one of them, an object as targeting and only scalar metadata;
// every fractional bucket is [variant, weight] with a known variant and a
// non-negative number, and every variant an if rule returns is known.
func checkFlagd(raw []byte) error {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return err
	}
	for k := range root {
		if !slices.Contains([]string{"$schema", "flags", "$evaluators", "metadata"}, k) {
			return fmt.Errorf("unknown top-level property %q", k)
		}
	}
	if s, ok := root["$schema"].(string); !ok || s != "https://flagd.dev/schema/v0/flags.json" {
		return fmt.Errorf("$schema = %v", root["$schema"])
	}
	flags, ok := root["flags"].(map[string]any)
	if !ok {
		return fmt.Errorf("flags is required and must be an object")
	}
	for key, v := range flags {
		flag, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("flag %s is not an object", key)
		}
		for k := range flag {
			if !slices.Contains([]string{"state", "variants", "defaultVariant", "targeting", "metadata"}, k) {
				return fmt.Errorf("flag %s: unknown property %q", key, k)
			}
		}
		if s := flag["state"]; s != "ENABLED" && s != "DISABLED" {
			return fmt.Errorf("flag %s: state %v", key, s)
		}
		variants, ok := flag["variants"].(map[string]any)
		if !ok || len(variants) == 0 {
			return fmt.Errorf("flag %s: variants must be a non-empty object", key)
		}
		kind := ""
		for name, val := range variants {
			k := fmt.Sprintf("%T", val)
			if k == "<nil>" || strings.HasPrefix(k, "[]") {
				return fmt.Errorf("flag %s: variant %s is %s", key, name, k)
			}
			if kind != "" && k != kind {
				return fmt.Errorf("flag %s: variants mix %s and %s", key, kind, k)
			}
			kind = k
		}
		dv, ok := flag["defaultVariant"].(string)
		if _, known := variants[dv]; !ok || !known {
			return fmt.Errorf("flag %s: defaultVariant %v is not a variant", key, flag["defaultVariant"])
		}
		if m, ok := flag["metadata"]; ok {
			meta, ok := m.(map[string]any)
			if !ok {
				return fmt.Errorf("flag %s: metadata is not an object", key)
			}
			for mk, mv := range meta {
				switch mv.(type) {
				case string, float64, bool:
				default:
					return fmt.Errorf("flag %s: metadata %s is %T", key, mk, mv)
				}
			}
		}
		if t, ok := flag["targeting"]; ok {
			rule, ok := t.(map[string]any)
			if !ok {
				return fmt.Errorf("flag %s: targeting is not an object", key)
			}
			if err := checkRule(rule, variants); err != nil {
				return fmt.Errorf("flag %s: %w", key, err)
			}
		}
	}
	return nil
}

// checkRule walks a JSON Logic rule whose value is a variant name.
func checkRule(v any, variants map[string]any) error {
	switch r := v.(type) {
	case string:
		if _, ok := variants[r]; !ok {
			return fmt.Errorf("targeting returns unknown variant %q", r)
		}
		return nil
	case map[string]any:
		if len(r) != 1 {
			return fmt.Errorf("a JSON Logic rule has one operator, not %d", len(r))
		}
		for op, args := range r {
			list, _ := args.([]any)
			switch op {
			case "var":
				return nil
			case "if":
				if len(list) < 3 || len(list)%2 == 0 {
					return fmt.Errorf("if takes condition/value pairs and an else, not %d arguments", len(list))
				}
				for i := 1; i < len(list); i += 2 {
					if err := checkRule(list[i], variants); err != nil {
						return err
					}
				}
				return checkRule(list[len(list)-1], variants)
			case "fractional":
				if len(list) > 0 {
					if _, isExpr := list[0].(map[string]any); isExpr {
						list = list[1:] // the bucketing expression
					}
				}
				if len(list) == 0 {
					return fmt.Errorf("fractional without buckets")
				}
				for _, b := range list {
					bucket, ok := b.([]any)
					if !ok || len(bucket) != 2 {
						return fmt.Errorf("fractional bucket %v is not [variant, weight]", b)
					}
					name, ok := bucket[0].(string)
					w, isNum := bucket[1].(float64)
					if _, known := variants[name]; !ok || !known || !isNum || w < 0 {
						return fmt.Errorf("fractional bucket %v", b)
					}
				}
				return nil
			}
			return fmt.Errorf("operator %q returns no variant", op)
		}
	}
	return fmt.Errorf("targeting value %v is no variant", v)
}

// evalRing evaluates the flags' if/in/var rules for a context that names a
// ring (fractional, for contexts without one, is flagd's to evaluate).
func evalRing(rule any, ring string) any {
	switch r := rule.(type) {
	case map[string]any:
		if list, ok := r["if"].([]any); ok {
			for i := 0; i+1 < len(list); i += 2 {
				if evalRing(list[i], ring) == true {
					return evalRing(list[i+1], ring)
				}
			}
			return evalRing(list[len(list)-1], ring)
		}
		if list, ok := r["in"].([]any); ok {
			return slices.Contains(list[1].([]any), evalRing(list[0], ring))
		}
		if _, ok := r["var"]; ok {
			return ring
		}
		if f, ok := r["fractional"]; ok {
			return f
		}
	}
	return rule
}

func TestFlagdExport(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	c := Config{Service: "api", Rings: []Ring{{Name: "internal", Soak: 2 * time.Hour}, {Name: "preview", Soak: 24 * time.Hour}, {Name: "ga", Production: true}}}
	deps := []delivery.Deployment{
		{Service: "api", SHA: "abc", Ring: "internal", Status: delivery.DeploymentSuccess, FinishedAt: now.Add(-30 * time.Hour)},
		{Service: "api", SHA: "abc", Ring: "preview", Status: delivery.DeploymentSuccess, FinishedAt: now.Add(-time.Hour)},
	}
	web := Config{Service: "web", Rings: []Ring{{Name: "canary"}, {Name: "all", Production: true}}}
	out, err := Flagd([]Rollout{
		{Config: c, Position: Locate(c, "abc", deps, now), Shares: map[string]int{"internal": 5, "preview": 15, "ga": 80}},
		{Config: web, Position: Locate(web, "def", nil, now)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkFlagd(out); err != nil {
		t.Fatalf("the export breaks flagd's schema: %v\n%s", err, out)
	}
	var f FlagdFile
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Flags) != 4 {
		t.Fatalf("flags = %v", f.Flags)
	}
	ring, released := f.Flags["api.ring"], f.Flags["api.released"]
	if ring.DefaultVariant != "ga" || len(ring.Variants) != 3 || released.DefaultVariant != "off" || released.Metadata["reached"] != "preview" || released.Metadata["sha"] != "abc" {
		t.Errorf("api flags = %+v %+v", ring, released)
	}
	// abc runs in preview: users of internal and preview get the feature,
	// users of ga do not; a user of no ring falls to the 20 % split.
	for r, want := range map[string]any{"internal": "on", "preview": "on", "ga": "off"} {
		if got := evalRing(released.Targeting, r); got != want {
			t.Errorf("api.released for ring %s = %v, want %v", r, got, want)
		}
		if got := evalRing(ring.Targeting, r); got != r {
			t.Errorf("api.ring for ring %s = %v", r, got)
		}
	}
	frac := fmt.Sprint(evalRing(released.Targeting, "elsewhere"))
	if frac != "[map[var:targetingKey] [on 20] [off 80]]" {
		t.Errorf("api.released split = %s, want 20 on, 80 off", frac)
	}
	if got := fmt.Sprint(evalRing(ring.Targeting, "")); got != "[map[var:targetingKey] [internal 5] [preview 15] [ga 80]]" {
		t.Errorf("api.ring split = %s", got)
	}
	// def is deployed nowhere: no ring has it; an equal split of web's
	// two rings gives 50 each.
	if got := fmt.Sprint(evalRing(f.Flags["web.released"].Targeting, "canary")); got != "off" {
		t.Errorf("web.released for canary = %s", got)
	}
	if got := fmt.Sprint(evalRing(f.Flags["web.ring"].Targeting, "")); got != "[map[var:targetingKey] [canary 50] [all 50]]" {
		t.Errorf("web.ring split = %s", got)
	}
}

func TestFlagdRejects(t *testing.T) {
	c := Config{Service: "api", Rings: []Ring{{Name: "internal"}, {Name: "preview"}, {Name: "ga", Production: true}}}
	cases := map[string][]Rollout{
		"shares that do not add up to 100": {{Config: c, Shares: map[string]int{"internal": 50, "ga": 40}}},
		"a share of an unknown ring":       {{Config: c, Shares: map[string]int{"beta": 100}}},
		"a service twice":                  {{Config: c}, {Config: c}},
		"a service without rings":          {{Config: Config{Service: "x"}}},
	}
	for name, rs := range cases {
		if _, err := Flagd(rs); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("%s: error %v, want EINVALID", name, err)
		}
	}
}

func TestCheckFlagdCatchesBrokenFiles(t *testing.T) {
	// The check itself must fail on what flagd would refuse.
	for name, doc := range map[string]string{
		"no flags":               `{"$schema": "https://flagd.dev/schema/v0/flags.json"}`,
		"a bad state":            `{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {"a": {"state": "ON", "variants": {"on": true}, "defaultVariant": "on"}}}`,
		"an unknown default":     `{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "off"}}}`,
		"mixed variants":         `{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {"a": {"state": "ENABLED", "variants": {"on": true, "x": "y"}, "defaultVariant": "on"}}}`,
		"an unknown bucket":      `{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on", "targeting": {"fractional": [["off", 100]]}}}}`,
		"an extra top-level key": `{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {}, "extra": 1}`,
	} {
		if checkFlagd([]byte(doc)) == nil {
			t.Errorf("%s: passed the check", name)
		}
	}
}
