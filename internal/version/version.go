// Package version reports which Phoenix this binary is: the release version
// stamped at link time and the VCS revision Go recorded at build time.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is set at link time: -ldflags "-X github.com/phoenixvc/phoenix/internal/version.Version=v1.2.3".
var Version = "dev"

// Commit is the source revision, set at link time by a build that has no
// VCS information of its own (from a source tarball, or with
// -buildvcs=false): -ldflags "-X github.com/phoenixvc/phoenix/internal/version.Commit=$(git rev-parse HEAD)".
// The revision Go records from a git checkout wins over it.
var Commit = ""

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the binary's version information.
func Get() Info {
	info := Info{Version: Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.fromBuild(bi)
	}
	if info.Commit == "" {
		info.Commit = Commit
	}
	return info
}

// fromBuild takes the VCS revision Go recorded in bi.
func (info *Info) fromBuild(bi *debug.BuildInfo) {
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
}

// String is the one-line form printed by `phoenix version`.
func (i Info) String() string {
	s := "phoenix " + i.Version
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (" + c
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + i.GoVersion + " " + i.Platform
}
