package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Trivy lists the vulnerabilities of a Trivy JSON report by severity. IDs
// are distinct per severity: one CVE found in three images or lock files is
// one finding to fix, and the allow-list names IDs.
type Trivy struct {
	// BySeverity maps "CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN" to
	// sorted, distinct vulnerability IDs.
	BySeverity map[string][]string
}

// IDs returns the distinct IDs of one severity (any case).
func (t Trivy) IDs(severity string) []string { return t.BySeverity[strings.ToUpper(severity)] }

// ReadTrivy reads a Trivy JSON report (trivy --format json) from a file.
func ReadTrivy(path string) (Trivy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Trivy{}, fmt.Errorf("trivy: %w", err)
	}
	t, err := ParseTrivy(bytes.NewReader(data))
	if err != nil {
		return Trivy{}, fmt.Errorf("trivy %s: %w", path, err)
	}
	return t, nil
}

type trivyResult struct {
	Target          string `json:"Target"`
	Vulnerabilities []struct {
		VulnerabilityID string `json:"VulnerabilityID"`
		Severity        string `json:"Severity"`
	} `json:"Vulnerabilities"`
}

// ParseTrivy parses both Trivy layouts: the current object with
// SchemaVersion and Results, and the older bare array of results.
func ParseTrivy(r io.Reader) (Trivy, error) {
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return Trivy{}, errors.New("empty file")
		}
		return Trivy{}, fmt.Errorf("parse json: %w", err)
	}
	var results []trivyResult
	switch trimmed := bytes.TrimSpace(raw); {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(raw, &results); err != nil {
			return Trivy{}, fmt.Errorf("parse json: %w", err)
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var doc struct {
			SchemaVersion *int          `json:"SchemaVersion"`
			Results       []trivyResult `json:"Results"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return Trivy{}, fmt.Errorf("parse json: %w", err)
		}
		if doc.SchemaVersion == nil {
			return Trivy{}, errors.New("not a Trivy report: no SchemaVersion")
		}
		results = doc.Results
	default:
		return Trivy{}, errors.New("not a Trivy report: want an object or an array")
	}
	sets := map[string]map[string]bool{}
	for _, res := range results {
		for _, v := range res.Vulnerabilities {
			if v.VulnerabilityID == "" {
				return Trivy{}, fmt.Errorf("target %s: vulnerability without VulnerabilityID", res.Target)
			}
			sev := strings.ToUpper(v.Severity)
			if sev == "" {
				sev = "UNKNOWN"
			}
			if sets[sev] == nil {
				sets[sev] = map[string]bool{}
			}
			sets[sev][v.VulnerabilityID] = true
		}
	}
	t := Trivy{BySeverity: map[string][]string{}}
	for sev, ids := range sets {
		for id := range ids {
			t.BySeverity[sev] = append(t.BySeverity[sev], id)
		}
		sort.Strings(t.BySeverity[sev])
	}
	return t, nil
}
