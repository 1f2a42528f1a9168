// Package conformance finds the vendors' own webhook payloads that the
// conformance tests run over. They are not part of the repository: CI
// checks the repository out with a folder shared/fixtures beside it
// (github/<event>/*.json, gitlab/*.json), and the tests that read them are
// named TestConformance... so they can be run on their own.
//
// Without the folder those tests skip, so that go test ./... passes on a
// plain clone; with STRIDE_CONFORMANCE=require set (as .ci/run does) a
// missing folder fails them instead, so CI cannot pass having checked
// nothing. Only tests import this package.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvRequire names the environment variable that, set to "require", makes
// a missing fixtures folder a test failure instead of a skip.
const EnvRequire = "STRIDE_CONFORMANCE"

// Dir returns the folder of vendor's payloads (github, gitlab) under
// ../shared/fixtures relative to the repository root. When it is missing
// Dir skips the test, or fails it when STRIDE_CONFORMANCE=require.
func Dir(tb testing.TB, vendor string) string {
	tb.Helper()
	dir, err := Lookup(vendor)
	if err == nil {
		return dir
	}
	if os.Getenv(EnvRequire) == "require" {
		tb.Fatalf("conformance: %v, and %s=require", err, EnvRequire)
	}
	tb.Skipf("conformance: %v; the suite over the vendors' own payloads runs when ../shared/fixtures sits beside the repository (%s=require makes it mandatory)", err, EnvRequire)
	return ""
}

// Lookup returns the folder of vendor's payloads, or an error saying where
// it was looked for. Tests that only add the payloads when they are there
// (fuzz seeds, benchmarks) use it instead of Dir.
func Lookup(vendor string) (string, error) {
	root, err := repositoryRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "..", "shared", "fixtures", vendor)
	info, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		return "", &os.PathError{Op: "stat", Path: dir, Err: os.ErrNotExist}
	}
	return filepath.Clean(dir), nil
}

// repositoryRoot returns the nearest folder above the working directory (a
// test runs in its package's folder) that holds go.mod.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", &os.PathError{Op: "find", Path: "go.mod", Err: os.ErrNotExist}
		}
		dir = parent
	}
}
