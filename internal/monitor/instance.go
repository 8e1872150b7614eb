package monitor

import "strings"

// SplitInstance splits an alert instance, the monitor's name of an
// environment ("<env>.<project>", as the edge names it), into the project
// and the environment as a team names them: "production.shop" is project
// "shop", environment "production". The server's own instances (host "",
// certificates', replicas', the backups') and a name without a project
// have no project and come back whole as the environment.
func SplitInstance(name string) (project, env string) {
	if ServerInstance(name) {
		return "", name
	}
	env, project, ok := strings.Cut(name, ".")
	if !ok {
		return "", name
	}
	return project, env
}

// InstanceLabel is how messages (and the dashboard) name an instance:
// "shop/production" for "production.shop", "host" for the server's cpu
// and memory, other server instances as they are ("tls:www.example.com").
func InstanceLabel(name string) string {
	if name == "" {
		return hostEnv
	}
	project, env := SplitInstance(name)
	if project == "" {
		return env
	}
	return project + "/" + env
}
