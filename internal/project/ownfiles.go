package project

// GitDir is a checkout's own folder: never part of a site.
const GitDir = ".git"

// OwnFiles returns the patterns (artifact.BuildOptions.Exclude) of what,
// in a project folder, configures the project rather than makes its site:
// the project file at its top (config: "phoenix.yaml", or the name -c
// gave) and every .git. A site built from the project folder itself (a
// folder of static files, released or deployed as it is) leaves them
// out; served, they would publish the project's configuration and source
// history.
func OwnFiles(config string) []string { return []string{"/" + config, GitDir} }
