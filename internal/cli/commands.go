package cli

import "github.com/spf13/cobra"

// commands is the registry of top-level commands, in help order.
func commands(g *Globals) []*cobra.Command {
	return append([]*cobra.Command{
		newDemoCmd(g),
		newServerCmd(g),
		newInitCmd(g),
		newValidateCmd(g),
		newDeployCmd(g),
		newProjectsCmd(g),
		newDeploymentsCmd(g),
		newRollbackCmd(g),
		newGCCmd(g),
		newCertificatesCmd(g),
		newReleaseCmd(g),
		newRunsCmd(g),
		newLogsCmd(g),
		newCancelCmd(g),
		newRetryCmd(g),
		newApproveCmd(g),
		newServeCmd(g),
		newArtifactCmd(g),
		newCheckCmd(g),
		newAdvisoriesCmd(g),
		newTokenCmd(g),
		newUserCmd(g),
		newAuditCmd(g),
		newReportCmd(g),
		newNotifyCmd(g),
		newBackupCmd(g),
		newStoreCmd(g),
		newVersionCmd(g),
	}, append(vaultCommands(g), monitorCommands(g)...)...)
}

// commandGroups are the headings of 'phoenix --help', in the order a new
// user meets them, with the top-level commands under each; the rest
// (help, completion, version) are listed after them.
var commandGroups = []struct {
	id, title string
	commands  []string
}{
	{"start", "Getting started:", []string{"demo", "init", "validate", "serve", "server"}},
	{"ship", "Releasing and deploying:", []string{"release", "runs", "logs", "approve", "cancel", "retry",
		"deploy", "deployments", "rollback", "artifact", "check", "advisories"}},
	{"operate", "Operating:", []string{"status", "projects", "alerts", "notify", "certificates", "report", "backup", "gc", "store"}},
	{"access", "Access, secrets and audit:", []string{"user", "token", "secret", "vault", "audit"}},
}

// groupCommands puts root's commands under the headings of commandGroups.
func groupCommands(root *cobra.Command) {
	group := map[string]string{}
	for _, gr := range commandGroups {
		root.AddGroup(&cobra.Group{ID: gr.id, Title: gr.title})
		for _, name := range gr.commands {
			group[name] = gr.id
		}
	}
	for _, c := range root.Commands() {
		c.GroupID = group[c.Name()]
	}
}
