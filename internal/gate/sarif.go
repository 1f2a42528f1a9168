package gate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// SARIF counts the results of a SARIF 2.1.0 log by level, rule and file.
//
// The log is streamed with encoding/json's token API rather than loaded
// with github.com/owenrumney/go-sarif, whose Open and FromBytes read the
// whole file and unmarshal every run into memory: a 50 MB log from a large
// monorepo would cost several times its size in heap. Here one result is
// decoded at a time.
type SARIF struct {
	Version string
	Runs    int
	Results int
	// ByLevel counts results by effective level: "error", "warning",
	// "note" or "none".
	ByLevel map[string]int
	ByRule  map[string]int
	ByFile  map[string]int
}

// Errors returns the number of results at level "error".
func (s SARIF) Errors() int { return s.ByLevel["error"] }

// ReadSARIF reads a SARIF log from a file.
func ReadSARIF(path string) (SARIF, error) {
	f, err := os.Open(path)
	if err != nil {
		return SARIF{}, fmt.Errorf("sarif: %w", err)
	}
	defer f.Close()
	s, err := ParseSARIF(f)
	if err != nil {
		return SARIF{}, fmt.Errorf("sarif %s: %w", path, err)
	}
	return s, nil
}

// sarifResult is the part of a result the gate reads.
type sarifResult struct {
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Rule      *struct {
		ID    string `json:"id"`
		Index *int   `json:"index"`
	} `json:"rule"`
	Level     string `json:"level"`
	Kind      string `json:"kind"`
	Locations []struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
		} `json:"physicalLocation"`
	} `json:"locations"`
}

// sarifRule is a reportingDescriptor of tool.driver.rules.
type sarifRule struct {
	ID                   string `json:"id"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

// ParseSARIF streams a SARIF 2.1.0 log. A result without a level takes its
// rule's defaultConfiguration.level, else "warning" (SARIF §3.27.10); a
// result whose kind is not "fail" has level "none". Rules may follow the
// results in a run, so results that need their rule's default are held as
// counts per rule until the run ends, never as whole results.
func ParseSARIF(r io.Reader) (SARIF, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256*1024))
	s := SARIF{ByLevel: map[string]int{}, ByRule: map[string]int{}, ByFile: map[string]int{}}
	if err := expectDelim(dec, '{'); err != nil {
		if errors.Is(err, io.EOF) {
			return SARIF{}, errors.New("empty file")
		}
		return SARIF{}, err
	}
	sawRuns := false
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return SARIF{}, err
		}
		switch key {
		case "version":
			if err := dec.Decode(&s.Version); err != nil {
				return SARIF{}, fmt.Errorf("version: %w", err)
			}
			if s.Version != "2.1.0" {
				return SARIF{}, fmt.Errorf("version %q: want 2.1.0", s.Version)
			}
		case "runs":
			sawRuns = true
			if err := expectDelim(dec, '['); err != nil {
				return SARIF{}, fmt.Errorf("runs: %w", err)
			}
			for dec.More() {
				if err := s.parseRun(dec); err != nil {
					return SARIF{}, fmt.Errorf("run %d: %w", s.Runs, err)
				}
				s.Runs++
			}
			if err := expectDelim(dec, ']'); err != nil {
				return SARIF{}, fmt.Errorf("runs: %w", err)
			}
		default:
			if err := skipValue(dec); err != nil {
				return SARIF{}, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return SARIF{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return SARIF{}, errors.New("data after the SARIF log")
	}
	if s.Version == "" || !sawRuns {
		return SARIF{}, errors.New("not a SARIF log: version and runs are required")
	}
	return s, nil
}

func (s *SARIF) parseRun(dec *json.Decoder) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	var rules []sarifRule
	// Results whose level depends on their rule's default: by rule id, and
	// by rule index for results that name their rule only by index.
	pendingByID := map[string]int{}
	pendingByIndex := map[int]int{}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return err
		}
		switch key {
		case "tool":
			var tool struct {
				Driver struct {
					Rules []sarifRule `json:"rules"`
				} `json:"driver"`
			}
			if err := dec.Decode(&tool); err != nil {
				return fmt.Errorf("tool: %w", err)
			}
			rules = tool.Driver.Rules
		case "results":
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("results: %w", err)
			}
			if tok == nil { // "results": null means the tool did not run
				continue
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fmt.Errorf("results: want an array, got %v", tok)
			}
			for dec.More() {
				var res sarifResult
				if err := dec.Decode(&res); err != nil {
					return fmt.Errorf("result %d: %w", s.Results, err)
				}
				s.addResult(res, pendingByID, pendingByIndex)
			}
			if err := expectDelim(dec, ']'); err != nil {
				return fmt.Errorf("results: %w", err)
			}
		default:
			if err := skipValue(dec); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	byID := map[string]string{}
	for _, r := range rules {
		byID[r.ID] = r.DefaultConfiguration.Level
	}
	for id, n := range pendingByID {
		s.ByLevel[defaultLevel(byID[id])] += n
	}
	for i, n := range pendingByIndex {
		lvl := ""
		if i >= 0 && i < len(rules) {
			lvl = rules[i].DefaultConfiguration.Level
			s.ByRule[rules[i].ID] += n
		}
		s.ByLevel[defaultLevel(lvl)] += n
	}
	return nil
}

func defaultLevel(l string) string {
	if l == "" {
		return "warning"
	}
	return l
}

func (s *SARIF) addResult(res sarifResult, pendingByID map[string]int, pendingByIndex map[int]int) {
	s.Results++
	id, index := res.RuleID, res.RuleIndex
	if res.Rule != nil {
		if id == "" {
			id = res.Rule.ID
		}
		if index == nil {
			index = res.Rule.Index
		}
	}
	if id != "" {
		s.ByRule[id]++
	}
	if len(res.Locations) > 0 {
		if uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI; uri != "" {
			s.ByFile[uri]++
		}
	}
	switch {
	case res.Level != "":
		s.ByLevel[res.Level]++
	case res.Kind != "" && res.Kind != "fail":
		s.ByLevel["none"]++
	case id != "":
		pendingByID[id]++
	case index != nil:
		pendingByIndex[*index]++ // rule id is counted once the rules are known
	default:
		s.ByLevel["warning"]++
	}
}

// expectDelim reads the next token and checks it is the delimiter want.
func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return err
		}
		return fmt.Errorf("parse json: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("parse json: want %q, got %v", want, tok)
	}
	return nil
}

// objectKey reads an object key.
func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("parse json: %w", err)
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("parse json: want an object key, got %v", tok)
	}
	return key, nil
}

// skipValue consumes one JSON value token by token, so a large value that
// the gate does not read (artifacts, invocations) is never held whole.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("parse json: %w", err)
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}
