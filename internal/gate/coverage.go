package gate

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode"

	"golang.org/x/tools/cover"
)

// Coverage is line or statement coverage of one report. Go coverprofiles
// count statements, Cobertura counts lines; both are reported as covered
// of total, so one criterion reads either.
type Coverage struct {
	Format  string // "go" or "cobertura"
	Covered int64
	Total   int64
	// Profiles are kept for Go coverprofiles so coverage of changed lines
	// can be computed against a diff.
	Profiles []*cover.Profile
}

// Percent returns the covered share in percent, and false when there is
// nothing to cover (an empty total is not 100 %).
func (c Coverage) Percent() (float64, bool) {
	if c.Total == 0 {
		return 0, false
	}
	return 100 * float64(c.Covered) / float64(c.Total), true
}

// ReadCoverprofile reads a Go coverprofile (go test -coverprofile).
func ReadCoverprofile(path string) (Coverage, error) {
	f, err := os.Open(path)
	if err != nil {
		return Coverage{}, fmt.Errorf("coverprofile: %w", err)
	}
	defer f.Close()
	c, err := ParseCoverprofile(f)
	if err != nil {
		return Coverage{}, fmt.Errorf("coverprofile %s: %w", path, err)
	}
	return c, nil
}

// ParseCoverprofile parses a Go coverprofile. An empty input or one without
// its "mode:" line is corrupt; a profile with a mode line and no blocks is
// valid and covers nothing.
func ParseCoverprofile(r io.Reader) (Coverage, error) {
	cr := &countingReader{r: r}
	profiles, err := cover.ParseProfilesFromReader(cr)
	if err != nil {
		return Coverage{}, err
	}
	if cr.n == 0 {
		return Coverage{}, errors.New("empty file")
	}
	c := Coverage{Format: "go", Profiles: profiles}
	for _, p := range profiles {
		for _, b := range p.Blocks {
			c.Total += int64(b.NumStmt)
			if b.Count > 0 {
				c.Covered += int64(b.NumStmt)
			}
		}
	}
	return c, nil
}

// countingReader remembers how many bytes were read, so an empty input (which
// the cover package accepts as no profiles) is told apart from a profile
// that has a mode line and no blocks.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReadCobertura reads a Cobertura XML report's line coverage.
func ReadCobertura(path string) (Coverage, error) {
	f, err := os.Open(path)
	if err != nil {
		return Coverage{}, fmt.Errorf("cobertura: %w", err)
	}
	defer f.Close()
	c, err := ParseCobertura(f)
	if err != nil {
		return Coverage{}, fmt.Errorf("cobertura %s: %w", path, err)
	}
	return c, nil
}

// ParseCobertura parses Cobertura XML. The root's lines-covered and
// lines-valid attributes are used when present; older writers omit them, and
// then the per-line hits of every class are counted (each file's line once,
// covered when any class reports a hit for it).
func ParseCobertura(r io.Reader) (Coverage, error) {
	var doc struct {
		XMLName      xml.Name `xml:"coverage"`
		LinesCovered string   `xml:"lines-covered,attr"`
		LinesValid   string   `xml:"lines-valid,attr"`
		Packages     []struct {
			Classes []struct {
				Filename string `xml:"filename,attr"`
				Lines    []struct {
					Number int   `xml:"number,attr"`
					Hits   int64 `xml:"hits,attr"`
				} `xml:"lines>line"`
			} `xml:"classes>class"`
		} `xml:"packages>package"`
	}
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Coverage{}, errors.New("empty file")
		}
		return Coverage{}, fmt.Errorf("parse xml: %w", err)
	}
	c := Coverage{Format: "cobertura"}
	if doc.LinesValid != "" && doc.LinesCovered != "" {
		valid, err1 := strconv.ParseInt(doc.LinesValid, 10, 64)
		covered, err2 := strconv.ParseInt(doc.LinesCovered, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return Coverage{}, fmt.Errorf("coverage attributes: %w", err)
		}
		if covered < 0 || valid < 0 || covered > valid {
			return Coverage{}, fmt.Errorf("coverage attributes: %d of %d lines covered", covered, valid)
		}
		c.Covered, c.Total = covered, valid
		return c, nil
	}
	type fileLine struct {
		file string
		line int
	}
	hits := map[fileLine]bool{}
	for _, p := range doc.Packages {
		for _, cl := range p.Classes {
			for _, l := range cl.Lines {
				k := fileLine{cl.Filename, l.Number}
				hits[k] = hits[k] || l.Hits > 0
			}
		}
	}
	for _, hit := range hits {
		c.Total++
		if hit {
			c.Covered++
		}
	}
	return c, nil
}

// ReadCoverage reads a coverage report in either format, told apart by its
// first non-blank byte: Cobertura is XML, a Go coverprofile starts "mode:".
func ReadCoverage(path string) (Coverage, error) {
	f, err := os.Open(path)
	if err != nil {
		return Coverage{}, fmt.Errorf("coverage: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var first byte
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return Coverage{}, fmt.Errorf("coverage %s: empty file", path)
		}
		if err != nil {
			return Coverage{}, fmt.Errorf("coverage %s: %w", path, err)
		}
		if !unicode.IsSpace(rune(b)) && b != 0xEF { // 0xEF starts a UTF-8 byte-order mark
			first = b
			break
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Coverage{}, fmt.Errorf("coverage %s: %w", path, err)
	}
	parse, kind := ParseCoverprofile, "coverprofile"
	if first == '<' {
		parse, kind = ParseCobertura, "cobertura"
	}
	c, err := parse(f)
	if err != nil {
		return Coverage{}, fmt.Errorf("%s %s: %w", kind, path, err)
	}
	return c, nil
}
