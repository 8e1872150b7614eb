package project

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
)

// lockfiles maps lockfile names to package managers, in preference order.
var lockfiles = []struct{ file, pm string }{
	{"pnpm-lock.yaml", "pnpm"},
	{"yarn.lock", "yarn"},
	{"package-lock.json", "npm"},
	{"npm-shrinkwrap.json", "npm"},
}

// detectPackageManager sets the package manager, its lockfile and the
// install command. The packageManager field (corepack) wins over lockfiles.
// A project that is itself a package of a workspace above it (member)
// has the workspace root's lockfile and packageManager: the package
// managers install the workspace from its root when run in a package.
func detectPackageManager(d *Detection, root string, rootPkg, pkg *packageJSON, member bool) {
	found := findLockfiles(root, d.App)
	field := pkg.PackageManager
	if field == "" && rootPkg != nil {
		field = rootPkg.PackageManager
	}
	if wsRoot, rel, ok := lockfile.WorkspaceRoot(root); member && ok && len(found) == 0 {
		up := strings.Repeat("../", strings.Count(rel, "/")+1)
		for _, l := range findLockfiles(wsRoot, "") {
			found = append(found, struct{ file, pm string }{up + l.file, l.pm})
		}
		if wsPkg, _ := readPackageJSON(wsRoot); field == "" && wsPkg != nil {
			field = wsPkg.PackageManager
		}
		d.Notes = append(d.Notes, fmt.Sprintf("the package %s of the workspace in %s: the install here installs the whole workspace, and the checks read the root's lockfile for this package's dependencies",
			rel, strings.TrimSuffix(up, "/")))
	}
	name, version, _ := strings.Cut(field, "@")
	version, _, _ = strings.Cut(version, "+") // drop the +sha512 hash
	switch {
	case name == "npm" || name == "pnpm" || name == "yarn":
		d.PackageManager, d.PackageManagerVersion, d.PackageManagerSource = name, version, "packageManager field"
	case len(found) > 0:
		d.PackageManager, d.PackageManagerSource = found[0].pm, path.Base(found[0].file)
		if strings.HasPrefix(found[0].file, "../") {
			d.PackageManagerSource = found[0].file // the workspace root's
		}
	default:
		d.PackageManager, d.PackageManagerSource = "npm", "default (no lockfile)"
		d.Notes = append(d.Notes, "no lockfile found: commit one so builds are reproducible (npm install writes package-lock.json)")
	}
	if field != "" && name != "npm" && name != "pnpm" && name != "yarn" {
		d.Notes = append(d.Notes, "packageManager "+strconv.Quote(field)+" is not npm, pnpm or yarn; using "+d.PackageManager)
	}
	for _, l := range found {
		if l.pm == d.PackageManager && d.Lockfile == "" {
			d.Lockfile = l.file
		}
	}
	if len(found) > 0 && d.Lockfile == "" {
		d.Notes = append(d.Notes, "packageManager says "+d.PackageManager+" but the lockfile is "+found[0].file)
	}
	if d.PackageManager == "yarn" {
		d.YarnBerry = isYarnBerry(root, version, d.Lockfile)
	}
	d.Install = installCommand(d)
}

// findLockfiles lists lockfiles in the app directory, then the root.
func findLockfiles(root, app string) []struct{ file, pm string } {
	var out []struct{ file, pm string }
	dirs := []string{""}
	if app != "" {
		dirs = []string{app, ""}
	}
	for _, dir := range dirs {
		for _, l := range lockfiles {
			rel := path.Join(dir, l.file)
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err == nil {
				out = append(out, struct{ file, pm string }{rel, l.pm})
			}
		}
	}
	return out
}

// isYarnBerry tells yarn 2+ from yarn 1 by version, .yarnrc.yml or the
// lockfile's __metadata block.
func isYarnBerry(root, version, lockfile string) bool {
	if version != "" {
		major, _, _ := strings.Cut(version, ".")
		n, err := strconv.Atoi(major)
		return err == nil && n >= 2
	}
	if _, err := os.Stat(filepath.Join(root, ".yarnrc.yml")); err == nil {
		return true
	}
	if lockfile == "" {
		return false
	}
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(lockfile)))
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := f.Read(head)
	return bytes.Contains(head[:n], []byte("__metadata:"))
}

// installCommand returns the reproducible install command.
func installCommand(d *Detection) string {
	switch d.PackageManager {
	case "pnpm":
		if d.Lockfile == "" {
			return "pnpm install"
		}
		return "pnpm install --frozen-lockfile"
	case "yarn":
		if d.YarnBerry {
			return "yarn install --immutable"
		}
		return "yarn install --frozen-lockfile"
	}
	if d.Lockfile == "" {
		return "npm install"
	}
	return "npm ci"
}

// runScript returns the command that runs a package.json script.
func runScript(pm, script string) string {
	if script == "test" {
		return pm + " test"
	}
	return pm + " run " + script
}
