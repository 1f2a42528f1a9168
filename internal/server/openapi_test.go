package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI    string                           `json:"openapi"`
	Paths      map[string]map[string]openAPIOp  `json:"paths"`
	Components struct{ Schemas map[string]any } `json:"components"`
}

type openAPIOp struct {
	RequestBody *struct {
		Content map[string]openAPIMedia `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]openAPIMedia `json:"content"`
	} `json:"responses"`
}

type openAPIMedia struct {
	Schema  map[string]any  `json:"schema"`
	Example json.RawMessage `json:"example"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(server.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// unrouted are the patterns without a method the server registers: the
// dashboard and the JSON fallbacks of the API's and webhooks' prefixes,
// which are not routes of the API.
var unrouted = []string{"/", "/api/", "/webhooks/"}

func TestOpenAPIDocumentsEveryRouteAndNoOther(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	srv := &server.Server{}
	registered := map[string]bool{}
	for _, p := range srv.Routes() {
		if slices.Contains(unrouted, p) {
			continue
		}
		if !strings.Contains(p, " ") {
			t.Errorf("route %q is registered without a method: the API's routes name theirs (GET /api/v1/...)", p)
			continue
		}
		registered[p] = true
		if !documented[p] {
			method, path, _ := strings.Cut(p, " ")
			t.Errorf("route %s is registered but not documented: add paths[%q].%s to internal/server/openapi.json", p, path, strings.ToLower(method))
		}
	}
	for p := range documented {
		if !registered[p] {
			t.Errorf("openapi.json documents %s, which the server does not register", p)
		}
	}
}

func TestOpenAPIExamplesFitTheirSchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			check := func(where string, m openAPIMedia) {
				if len(m.Example) == 0 || m.Schema == nil {
					return
				}
				n++
				var v any
				if err := json.Unmarshal(m.Example, &v); err != nil {
					t.Errorf("%s %s %s: example is not JSON: %v", method, path, where, err)
					return
				}
				for _, e := range validate(doc.Components.Schemas, m.Schema, v, "example") {
					t.Errorf("%s %s %s: %s", strings.ToUpper(method), path, where, e)
				}
			}
			if op.RequestBody != nil {
				if m, ok := op.RequestBody.Content["application/json"]; ok {
					check("request", m)
				}
			}
			for code, r := range op.Responses {
				if m, ok := r.Content["application/json"]; ok {
					check("response "+code, m)
				}
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d examples checked; every JSON answer should have one", n)
	}
}

// TestOpenAPIValidatorRefuses checks the validator the examples are
// checked with finds what it should, so a passing example test means
// something.
func TestOpenAPIValidatorRefuses(t *testing.T) {
	schemas := map[string]any{"T": map[string]any{"type": "object", "required": []any{"a"},
		"properties": map[string]any{"a": map[string]any{"type": "integer"}, "b": map[string]any{"type": []any{"string", "null"}, "enum": []any{"x", nil}}}}}
	ref := map[string]any{"$ref": "#/components/schemas/T"}
	for _, c := range []struct {
		json string
		errs int
	}{
		{`{"a": 1}`, 0},
		{`{"a": 1, "b": null}`, 0},
		{`{"a": 1, "b": "x"}`, 0},
		{`{}`, 1},
		{`{"a": 1.5}`, 1},
		{`{"a": "1"}`, 1},
		{`{"a": 1, "b": "y"}`, 1},
		{`[]`, 1},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.json), &v); err != nil {
			t.Fatal(err)
		}
		if got := validate(schemas, ref, v, "v"); len(got) != c.errs {
			t.Errorf("%s: %d errors %v, want %d", c.json, len(got), got, c.errs)
		}
	}
}

// validate checks v against the subset of JSON Schema the document uses:
// $ref, allOf, oneOf, type (one or a list), enum, required, properties,
// additionalProperties and items.
func validate(schemas map[string]any, schema map[string]any, v any, at string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		s, ok := schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		if !ok {
			return []string{at + ": unknown $ref " + ref}
		}
		return validate(schemas, s, v, at)
	}
	var errs []string
	if all, ok := schema["allOf"].([]any); ok {
		for _, s := range all {
			errs = append(errs, validate(schemas, s.(map[string]any), v, at)...)
		}
	}
	if one, ok := schema["oneOf"].([]any); ok {
		fit := 0
		for _, s := range one {
			if len(validate(schemas, s.(map[string]any), v, at)) == 0 {
				fit++
			}
		}
		if fit != 1 {
			errs = append(errs, fmt.Sprintf("%s: fits %d of oneOf's schemas, want 1", at, fit))
		}
	}
	if ty, ok := schema["type"]; ok {
		var types []string
		switch ty := ty.(type) {
		case string:
			types = []string{ty}
		case []any:
			for _, x := range ty {
				types = append(types, x.(string))
			}
		}
		if !slices.ContainsFunc(types, func(t string) bool { return isType(v, t) }) {
			return append(errs, fmt.Sprintf("%s: %s is not of type %v", at, short(v), ty))
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %s is not one of %v", at, short(v), enum))
	}
	switch v := v.(type) {
	case map[string]any:
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := v[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: required field %q is missing", at, r))
				}
			}
		}
		props, _ := schema["properties"].(map[string]any)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(schemas, p, v[k], at+"."+k)...)
			} else if ap, ok := schema["additionalProperties"].(map[string]any); ok {
				errs = append(errs, validate(schemas, ap, v[k], at+"."+k)...)
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, x := range v {
				errs = append(errs, validate(schemas, items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func isType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return false
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

// TestOpenAPIServedAndTheAnswersFit serves the document and checks a real
// answer of the DORA API against the schema it documents.
func TestOpenAPIServedAndTheAnswersFit(t *testing.T) {
	db := storetest.SQLite(t)
	ts, _ := pagesServer(t, db)
	resp, err := http.Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(body) != string(server.OpenAPI()) {
		t.Fatalf("GET /api/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if code, b := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
		t.Fatalf("ingest: %d %v", code, b)
	}
	doc := loadOpenAPI(t)
	schema := doc.Paths["/api/v1/dora"]["get"].Responses["200"].Content["application/json"].Schema
	for _, q := range []string{"service=app&" + pagesPeriod, "team=payments&" + pagesPeriod, pagesPeriod} {
		code, rep := ts.do(t, "GET", "/api/v1/dora?"+q, ts.read, nil)
		if code != 200 {
			t.Fatalf("dora %s: %d %v", q, code, rep)
		}
		var v any
		b, _ := json.Marshal(rep)
		json.Unmarshal(b, &v)
		for _, e := range validate(doc.Components.Schemas, schema, v, "answer") {
			t.Errorf("GET /api/v1/dora?%s: %s", q, e)
		}
	}
}

// TestSprintsAnswerFits reads GET /api/v1/sprints over a stored sprint and
// checks the answer against its documented schema; a service scope is
// refused, since sprints belong to teams.
func TestSprintsAnswerFits(t *testing.T) {
	db := storetest.SQLite(t)
	ts, _ := pagesServer(t, db)
	events := `[{"key":"w1","kind":"work_item","work_item":{"tracker":"jira","key":"PAY-1","team":"payments","type":"Bug","status":"Done","category":"done",
		"story_points":3,"created_at":"2026-03-01T09:00:00Z","resolved_at":"2026-03-04T10:00:00Z","updated_at":"2026-03-04T10:00:00Z"}}]`
	if code, b := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(events)); code != 200 {
		t.Fatalf("ingest: %d %v", code, b)
	}
	doc := loadOpenAPI(t)
	schema := doc.Paths["/api/v1/sprints"]["get"].Responses["200"].Content["application/json"].Schema
	code, rep := ts.do(t, "GET", "/api/v1/sprints?team=payments&explain=true&"+pagesPeriod, ts.read, nil)
	if code != 200 {
		t.Fatalf("sprints: %d %v", code, rep)
	}
	var v any
	b, _ := json.Marshal(rep)
	json.Unmarshal(b, &v)
	for _, e := range validate(doc.Components.Schemas, schema, v, "answer") {
		t.Errorf("GET /api/v1/sprints: %s", e)
	}
	if !strings.Contains(string(b), `"keys":["PAY-1"]`) {
		t.Errorf("explain=true lists no keys: %s", b)
	}
	if code, _ := ts.do(t, "GET", "/api/v1/sprints?service=app", ts.read, nil); code != 400 {
		t.Errorf("service scope: %d, want 400", code)
	}
}
