package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestServerEnvValuesNameTheVariable: every phoenix server flag may come
// from its PHOENIX_* variable (a systemd unit's Environment= line), and a
// value phoenix refuses is reported as that variable, never as the flag
// the unit does not pass. Each row sets one bad value through the
// environment (with the command line flags it needs to be looked at);
// every flag is either a row or listed as taking any value.
func TestServerEnvValuesNameTheVariable(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_TOKEN", vault.MasterKeyEnv, BackupKeyEnv, OIDCSecretEnv, DatabaseURLEnv,
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
	missing := filepath.Join(t.TempDir(), "missing")
	keyFile := filepath.Join(t.TempDir(), "backup.key")
	key, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := vault.WriteMasterKeyFile(keyFile, key); err != nil {
		t.Fatal(err)
	}
	backup := "--backup-repo " + t.TempDir() + " --backup-key-file " + keyFile
	dns := "--acme --edge-tls-listen 127.0.0.1:0 --acme-dns-server ns1.example.com --acme-dns-tsig-key k --acme-dns-tsig-secret S"
	oidc := "--oidc-issuer https://login.example.com --oidc-client-id phoenix --oidc-redirect-url https://phoenix.example.com/ui/login/oidc/callback"
	rows := []struct{ flag, value, args, want string }{
		{"debug", "maybe", "", `="maybe": `},
		{"edge-tls-cert", missing, "", " " + missing + " does not exist"},
		{"edge-tls-key", missing, "", " " + missing + " does not exist"},
		{"hsts", "soon", "", `="soon": `},
		{"hsts-include-subdomains", "maybe", "", `="maybe": `},
		{"edge-loops", "0", "", `="0": `},
		{"edge-idle-timeout", "10ms", "", " must be at least 1s"},
		{"edge-max-conns-per-ip", "-1", "", " must be 0 or more"},
		{"trusted-proxies", "lb.internal", "", `: entry 1, "lb.internal", is not an address`},
		{"edge-metrics-allow", "10.0.0.0/33", "", `: entry 1, "10.0.0.0/33", is not an address`},
		{"sites-domain", "localhost", "", ` "localhost" is not a domain`},
		{"public-url", "phoenix.example.com", "", ` "phoenix.example.com" is not the address of a dashboard`},
		{"geoip-db", missing, "", ": "},
		{"master-key-file", missing, "", ": key file " + missing + " does not exist"},
		{"backup-repo", t.TempDir(), "", " needs the repository's key"},
		{"backup-key-file", missing, "--backup-repo " + t.TempDir(), ": key file " + missing + " does not exist"},
		{"backup-schedule", "sometimes", backup, ` "sometimes": `},
		{"backup-keep", "0", "", ` "0" is not a positive duration`},
		{"backup-skip-restore-test", "maybe", "", `="maybe": `},
		{"backup-mirror", "ftp://offsite", backup, `: "ftp://offsite" is not an S3 URL`},
		{"backup-mirror-endpoint", "localhost", backup + " --backup-mirror s3://offsite/phoenix", `: endpoint "localhost"`},
		{"blob-store", "s3:/bucket", "", `: "s3:/bucket" is not an S3 URL`},
		{"blob-store-endpoint", "localhost", "--blob-store s3://artifacts", `: endpoint "localhost"`},
		{"blob-store-region", "eu-west-1", "", " needs --blob-store"},
		{"database-url", "mysql://db/phoenix", "", `: scheme "mysql" is not supported`},
		{"replica", "true", "", " needs --database-url"},
		{"edge-tls-listen", "127.0.0.1:0", "", " needs certificates"},
		{"acme", "maybe", "", `="maybe": `},
		{"acme-email", "ops@example.com", "", " needs --acme"},
		{"acme-ca", "https://ca.example.com/directory", "", " needs --acme"},
		{"acme-ca-root", missing, "", " needs --acme"},
		{"acme-domain", "printer.local", "--acme --edge-tls-listen 127.0.0.1:0", ": "},
		{"acme-dns-server", "127.0.0.1:99999", "--acme --edge-tls-listen 127.0.0.1:0 --acme-dns-tsig-key k --acme-dns-tsig-secret S", ": "},
		{"acme-dns-zone", "a..b", dns, ": "},
		{"acme-dns-tsig-key", "a..b", "--acme --edge-tls-listen 127.0.0.1:0 --acme-dns-server ns1.example.com --acme-dns-tsig-secret S", ": "},
		{"acme-dns-tsig-secret", "bm90LWEtbmFtZQ==", "--acme --edge-tls-listen 127.0.0.1:0 --acme-dns-server ns1.example.com --acme-dns-tsig-key k", " must name a vault secret"},
		{"acme-dns-tsig-algorithm", "md5", dns, ` "md5" is not supported`},
		{"acme-dns-resolver", "a b", dns, ": "},
		{"acme-dns-propagation-timeout", "-1m", dns, " -1m is not positive"},
		{"cert-alert-days", "-1", "", " -1 is negative"},
		{"cert-order-alert", "-1m", "", " -1m is negative"},
		{"disk-alert-free", "5", "", ` "5" is neither a percentage (5%) nor a size (1GiB, 500MiB)`},
		{"run-retention", "10m", "", ` "10m" is not a duration of an hour or more`},
		{"run-keep", "0", "", " 0: keep at least 1 run per project"},
		{"store-scrub-every", "-1h", "", " -1h is negative"},
		{"store-scrub-rate", "-1", "", " -1 is negative"},
		{"step-sandbox", "sometimes", "", ` "sometimes" is not auto, on or off`},
		{"oidc-issuer", "http://login.example.com", "", ` "http://login.example.com" is not an https URL`},
		{"oidc-client-secret-file", missing, oidc, ": "},
		{"oidc-role-map", "admins", oidc, `: pair 1 "admins" is not GROUP=ROLE`},
		{"oidc-auto-provision", "maybe", "", `="maybe": `},
		{"edge-access-log", filepath.Join(missing, "access.log"), "", " " + filepath.Join(missing, "access.log") + ": the directory"},
		{"edge-access-log-max-size", "0", "", " 0: rotate at 1 MiB or more"},
		{"edge-access-log-keep", "0", "", " 0: keep at least 1 rotated file"},
		{"listen", "127.0.0.1:99999", "", ""}, // api: cannot listen on …: named after the address
		{"edge-listen", "127.0.0.1:99999", "", ""},
	}
	// Flags phoenix takes as given: names, claims, a region; and
	// --advertise-url, checked with --replica on PostgreSQL only (app's
	// TestCheckReplicaNamesTheVariable).
	anyValue := []string{"oidc-client-id", "oidc-redirect-url", "oidc-name", "oidc-user-claim", "oidc-scope",
		"oidc-groups-claim", "oidc-default-role", "backup-mirror-region", "advertise-url"}

	covered := map[string]bool{}
	for _, f := range anyValue {
		covered[f] = true
	}
	for _, r := range rows {
		covered[r.flag] = true
	}
	newServerCmd(&Globals{}).Flags().VisitAll(func(f *pflag.Flag) {
		if !covered[f.Name] {
			t.Errorf("--%s: no row sets a bad %s (or add it to anyValue)", f.Name, envName(f.Name))
		}
	})

	for _, r := range rows {
		env := envName(r.flag)
		t.Run(r.flag, func(t *testing.T) {
			t.Setenv(env, r.value)
			args := []string{"--data", t.TempDir(), "server"}
			if r.flag != "listen" {
				args = append(args, "--listen", "127.0.0.1:0")
			}
			if r.flag != "edge-listen" {
				args = append(args, "--edge-listen", "127.0.0.1:0")
			}
			errs, code := runRefused(t, append(args, strings.Fields(r.args)...))
			want := "error: " + env + r.want
			if r.want == "" { // a listener: the address, then what gave it
				want = "cannot listen on " + r.value + " (" + env + "): "
			}
			if code != 2 || !strings.Contains(errs, want) || strings.Contains(errs, "error: --"+r.flag) {
				t.Errorf("%s=%s phoenix server %s: exit %d, want 2 and %q:\n%s", env, r.value, r.args, code, want, errs)
			}
		})
	}
}

// runRefused runs phoenix with args, which should be refused before a
// server starts; one that starts anyway fails the test and is stopped
// (SIGINT, as Main listens for) rather than hanging it.
func runRefused(t *testing.T, args []string) (stderr string, code int) {
	t.Helper()
	type result struct {
		errs string
		code int
	}
	done := make(chan result, 1)
	go func() {
		_, errs, code := run(args...)
		done <- result{errs, code}
	}()
	select {
	case r := <-done:
		return r.errs, r.code
	case <-time.After(time.Minute):
		t.Errorf("phoenix %s: the server started, the value was not refused", strings.Join(args, " "))
		// os.Interrupt is SIGINT where there are signals; elsewhere it
		// cannot be sent, and the test stops without waiting.
		if err := interruptSelf(); err != nil {
			t.Fatalf("cannot interrupt the server: %v", err)
		}
		r := <-done
		return r.errs, r.code
	}
}

// TestMissingMasterKeyFileSaysWhereKeysComeFrom: a master key file that
// does not exist, given to phoenix server or to a command's in-process
// server, is a usage error whose hint says which key opens the vault and
// how a new vault's is made, not only that the file is missing.
func TestMissingMasterKeyFileSaysWhereKeysComeFrom(t *testing.T) {
	noMasterKey(t)
	missing := filepath.Join(t.TempDir(), "master.key")
	const hint = "hint: give the key file the vault was made with; a new vault's is made with phoenix vault init --generate-key-file FILE (docs/vault.md)\n"
	_, errs, code := run("server", "--data", t.TempDir(), "--master-key-file", missing)
	if code != 2 || !strings.Contains(errs, "error: --master-key-file: key file "+missing+" does not exist\n"+hint) {
		t.Errorf("phoenix server: exit %d:\n%s", code, errs)
	}
	t.Setenv(masterKeyFileEnv, missing)
	_, errs, code = run("runs", "--data", t.TempDir())
	if code != 2 || !strings.Contains(errs, "error: "+masterKeyFileEnv+": key file "+missing+" does not exist\n"+hint) {
		t.Errorf("phoenix runs: exit %d:\n%s", code, errs)
	}
}

// interruptSelf sends this process os.Interrupt, as Ctrl-C does.
func interruptSelf() error {
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		return err
	}
	return p.Signal(os.Interrupt)
}
