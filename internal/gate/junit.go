package gate

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// JUnit sums the test results of one or more JUnit XML files.
type JUnit struct {
	Files    []string
	Tests    int
	Failures int
	Errors   int
	Skipped  int
	// Time is the total of the suites' time attributes, in seconds.
	Time float64
}

// Failed returns failures plus errors: both mean a test did not pass.
func (j JUnit) Failed() int { return j.Failures + j.Errors }

// ReadJUnit reads every file that the patterns name; a pattern may be a
// glob. A pattern that matches nothing is an error, so a misspelt path or a
// test job that wrote no report cannot pass the gate.
func ReadJUnit(patterns ...string) (JUnit, error) {
	var files []string
	seen := map[string]bool{}
	for _, pat := range patterns {
		matches, err := filepath.Glob(pat)
		if err != nil {
			return JUnit{}, fmt.Errorf("junit %q: %w", pat, err)
		}
		if len(matches) == 0 {
			return JUnit{}, fmt.Errorf("junit %q: no such file", pat)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
	}
	var total JUnit
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return JUnit{}, fmt.Errorf("junit: %w", err)
		}
		j, err := ParseJUnit(f)
		f.Close()
		if err != nil {
			return JUnit{}, fmt.Errorf("junit %s: %w", name, err)
		}
		total.Files = append(total.Files, name)
		total.Tests += j.Tests
		total.Failures += j.Failures
		total.Errors += j.Errors
		total.Skipped += j.Skipped
		total.Time += j.Time
	}
	return total, nil
}

// junitSuite covers both roots: <testsuites> holds suites, <testsuite>
// holds test cases, and some writers nest suites within suites.
type junitSuite struct {
	XMLName  xml.Name
	Tests    string       `xml:"tests,attr"`
	Failures string       `xml:"failures,attr"`
	Errors   string       `xml:"errors,attr"`
	Skipped  string       `xml:"skipped,attr"`
	Disabled string       `xml:"disabled,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
	Cases    []struct {
		Failure *struct{} `xml:"failure"`
		Error   *struct{} `xml:"error"`
		Skipped *struct{} `xml:"skipped"`
	} `xml:"testcase"`
}

// ParseJUnit parses one JUnit XML document whose root is <testsuites> or
// <testsuite>. Counts come from the test cases, which every writer emits;
// the suite attributes are used only for a suite that lists no test cases
// (some tools write summaries only). Time is summed over the innermost
// suites, since the attributes of enclosing elements repeat it.
func ParseJUnit(r io.Reader) (JUnit, error) {
	var root junitSuite
	if err := xml.NewDecoder(r).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return JUnit{}, errors.New("empty file")
		}
		return JUnit{}, fmt.Errorf("parse xml: %w", err)
	}
	switch root.XMLName.Local {
	case "testsuites", "testsuite":
	default:
		return JUnit{}, fmt.Errorf("root element <%s>: want <testsuites> or <testsuite>", root.XMLName.Local)
	}
	var j JUnit
	if err := addSuite(&j, root); err != nil {
		return JUnit{}, err
	}
	return j, nil
}

func addSuite(j *JUnit, s junitSuite) error {
	for _, c := range s.Cases {
		j.Tests++
		switch {
		case c.Error != nil:
			j.Errors++
		case c.Failure != nil:
			j.Failures++
		case c.Skipped != nil:
			j.Skipped++
		}
	}
	for _, child := range s.Suites {
		if err := addSuite(j, child); err != nil {
			return err
		}
	}
	if len(s.Suites) > 0 {
		return nil
	}
	if s.Time != "" {
		t, err := strconv.ParseFloat(s.Time, 64)
		if err != nil {
			return fmt.Errorf("testsuite time %q: %w", s.Time, err)
		}
		j.Time += t
	}
	if len(s.Cases) > 0 || s.XMLName.Local != "testsuite" {
		return nil
	}
	counts := []struct {
		attr string
		dst  *int
	}{{s.Tests, &j.Tests}, {s.Failures, &j.Failures}, {s.Errors, &j.Errors}, {s.Skipped, &j.Skipped}, {s.Disabled, &j.Skipped}}
	for _, c := range counts {
		if c.attr == "" {
			continue
		}
		n, err := strconv.Atoi(c.attr)
		if err != nil || n < 0 {
			return fmt.Errorf("testsuite count %q: not a count", c.attr)
		}
		*c.dst += n
	}
	return nil
}
