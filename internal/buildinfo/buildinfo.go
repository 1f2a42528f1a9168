// Package buildinfo says which source the running binary was built from,
// as "stride version" prints it and /metrics exports it in
// stride_build_info, so a bug report and a dashboard name the same build.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is what the binary records of its build.
type Info struct {
	// Version is the module version: a tag such as v1.4.0 for a binary
	// built by "go install ...@v1.4.0" or from a tagged checkout, a
	// pseudo-version after a tag, "(devel)" when the toolchain stamped none.
	Version string
	// Revision is the VCS commit the binary was built from; empty when it
	// was built without VCS stamping (-buildvcs=false, or outside a
	// checkout).
	Revision string
	// Modified is true when the work tree had uncommitted changes.
	Modified bool
	// GoVersion is the toolchain that built the binary.
	GoVersion string
}

// Read returns the running binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "(unknown)", GoVersion: runtime.Version()}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the line "stride version" prints: the version, then the
// revision with ", modified" for a dirty work tree, then the toolchain.
func (i Info) String() string {
	rev := i.Revision
	if rev == "" {
		rev = "unknown revision"
	}
	if i.Modified {
		rev += ", modified"
	}
	return fmt.Sprintf("stride %s (%s) %s", i.Version, rev, i.GoVersion)
}
