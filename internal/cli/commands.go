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
		newBackupCmd(g),
		newStoreCmd(g),
		newVersionCmd(g),
	}, append(vaultCommands(g), monitorCommands(g)...)...)
}
