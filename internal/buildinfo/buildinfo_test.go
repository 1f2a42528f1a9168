package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestInfoFromTheBuild(t *testing.T) {
	cases := []struct {
		name string
		bi   debug.BuildInfo
		want Info
		line string
	}{
		{"a tagged build", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1d8cdae0"}, {Key: "vcs.modified", Value: "false"}}},
			Info{Version: "v1.4.0", Revision: "1d8cdae0", GoVersion: "go1.26.0"}, "stride v1.4.0 (1d8cdae0) go1.26.0"},
		{"a dirty work tree", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: "(devel)", Revision: "abc", Modified: true, GoVersion: "go1.26.0"}, "stride (devel) (abc, modified) go1.26.0"},
		{"no VCS stamp", debug.BuildInfo{GoVersion: "go1.26.0"},
			Info{Version: "(devel)", GoVersion: "go1.26.0"}, "stride (devel) (unknown revision) go1.26.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fromBuildInfo(&c.bi)
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if got.String() != c.line {
				t.Errorf("String() = %q, want %q", got.String(), c.line)
			}
		})
	}
}
