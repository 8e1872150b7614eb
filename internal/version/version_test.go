package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestCommitFromLinkTimeWhenGoRecordedNone: a build without VCS
// information (a tarball, -buildvcs=false) shows the commit stamped at link
// time; one Go recorded a revision for shows that revision.
func TestCommitFromLinkTimeWhenGoRecordedNone(t *testing.T) {
	old := Commit
	defer func() { Commit = old }()
	Commit = "0123456789abcdef0123456789abcdef01234567"
	if got := Get(); got.Commit == "" {
		t.Fatal("no commit shown with one stamped at link time")
	} else if !strings.Contains(got.String(), "(") {
		t.Fatalf("String without the commit: %q", got.String())
	}
	var info Info
	info.fromBuild(&debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "feedface"}, {Key: "vcs.modified", Value: "true"}}})
	if info.Commit != "feedface" || !info.Modified {
		t.Fatalf("from the build: %+v", info)
	}
	if s := (Info{Version: "v1.2.3", Commit: "0123456789abcdef", GoVersion: "go1.26.8", Platform: "linux/amd64"}).String(); s != "phoenix v1.2.3 (0123456789ab) go1.26.8 linux/amd64" {
		t.Fatalf("String: %q", s)
	}
}
