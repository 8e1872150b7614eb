package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// testMessageReceiver stands in for Teams on 127.0.0.1: it answers 200
// and passes on the path of each phoenix notify test message (not the
// alerts' messages), whose token tells which URL the channel used.
func testMessageReceiver(t *testing.T) (*httptest.Server, chan string) {
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); strings.Contains(string(b), "Test message from Phoenix") {
			got <- r.URL.Path
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// teamsBySecret is shop's phoenix.yaml with a Teams channel whose
// webhook URL is the secret SHOP_TEAMS_URL.
func teamsBySecret(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte("version: 1\nproject: {name: shop}\nenvironments: {production: {}}\n"+
		"notifications:\n  channels:\n    teams: {type: teams, url: secret:SHOP_TEAMS_URL}\n"), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSettingAChannelsSecretLoadsItAtOnce: a project's Teams channel
// whose webhook URL is a secret that did not exist stayed unloaded after
// phoenix secret set (notify test still said the secret did not exist,
// notify-undeliverable kept firing) until phoenix.yaml was handed over
// again. Setting the secret loads the channel at once (notify test
// delivers to the receiver, the alert resolves at its next evaluation),
// rotating it sends to the new URL, deleting it unloads the channel; the
// URL's token reaches no log line and no answer.
func TestSettingAChannelsSecretLoadsItAtOnce(t *testing.T) {
	t.Parallel()
	teams, got := testMessageReceiver(t)
	logs := &testkit.LogBuffer{}
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-", MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	cfg := teamsBySecret(t)
	a.useConfig("shop", cfg, nil)
	var answers []string
	test := func(wantCode int, want string) {
		t.Helper()
		code, body := apiDo(t, a, "POST", "/api/v1/projects/shop/channels/teams/test")
		answers = append(answers, body)
		if code != wantCode || !strings.Contains(body, want) {
			t.Fatalf("notify test = %d %s, want %d with %q", code, body, wantCode, want)
		}
	}
	setURL := func(url string) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"value": base64.StdEncoding.EncodeToString([]byte(url))})
		if code, body := apiSend(t, a, "PUT", "/api/v1/secrets/SHOP_TEAMS_URL", string(b)); code != http.StatusCreated {
			t.Fatalf("secret set = %d %s", code, body)
		}
	}
	alert := monitor.AlertID(monitor.UndeliverableRule, monitor.UndeliverableInstance("shop", ""))
	firing := func() bool {
		t.Helper()
		if err := a.Monitor.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
		alerts, err := a.Monitor.Alerts(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(alerts, func(al monitor.Alert) bool { return al.ID == alert && al.State == monitor.StateFiring })
	}

	test(http.StatusConflict, "secret SHOP_TEAMS_URL does not exist")
	if !firing() {
		t.Fatalf("%s does not fire while the channels are not loaded", alert)
	}
	setURL(teams.URL + "/hook/first-token-7c1e")
	test(http.StatusOK, `"outcome": "delivered"`)
	if p := recv(t, got, "the test message"); p != "/hook/first-token-7c1e" {
		t.Fatalf("the receiver got %s", p)
	}
	if firing() {
		t.Fatalf("%s still fires with the channels loaded", alert)
	}
	setURL(teams.URL + "/hook/second-token-41aa") // rotated
	test(http.StatusOK, `"outcome": "delivered"`)
	if p := recv(t, got, "the test message after the rotation"); p != "/hook/second-token-41aa" {
		t.Fatalf("after the rotation the receiver got %s", p)
	}
	if code, body := apiDo(t, a, "DELETE", "/api/v1/secrets/SHOP_TEAMS_URL"); code != http.StatusOK {
		t.Fatalf("secret delete = %d %s", code, body)
	}
	test(http.StatusConflict, "SHOP_TEAMS_URL")
	for _, token := range []string{"first-token-7c1e", "second-token-41aa"} {
		if logs.Contains(token) || slices.ContainsFunc(answers, func(s string) bool { return strings.Contains(s, token) }) {
			t.Fatalf("the webhook URL's token %s reached the log or an answer", token)
		}
	}
}

// TestReplicasReloadAChannelsSecret: with several servers, a secret set
// through one loads the channels on the other too, announced through the
// database (the replicas poll only hourly here; the other's notify test
// delivers), and a change that was not announced (a vault with no hook,
// standing in for a lost notification) reaches both at their poll.
func TestReplicasReloadAChannelsSecret(t *testing.T) {
	t.Parallel()
	teams, got := testMessageReceiver(t)
	rs := newReplicaSet(t)
	start := func() *App {
		o := rs.options(t, t.TempDir())
		o.Replica.Poll = time.Hour
		return startOpts(t, o)
	}
	a, b := start(), start()
	leader := leaderOf(t, a, b)
	follower := map[*App]*App{a: b, b: a}[leader]
	cfg := teamsBySecret(t)
	leader.useConfig("shop", cfg, nil)
	follower.useConfig("shop", cfg, nil)
	loaded := func(a *App) bool {
		a.projects.mu.Lock()
		defer a.projects.mu.Unlock()
		return a.projects.chanErr["shop"] == nil
	}
	if loaded(follower) {
		t.Fatal("the channels loaded without their secret")
	}
	ctx := context.Background()
	// Both replicas listen before the secret is set: the one that is
	// told only at its connection's start would pass without the
	// announcement.
	eventually(t, "both replicas listen for changed secrets", func() bool {
		var n int
		err := leader.DB.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %phoenix_secrets%'`).Scan(&n)
		return err == nil && n == 2
	})
	admin := vault.Subject{Actor: "ops", Roles: []string{"admin"}}
	if _, err := leader.Vault.Set(ctx, admin, "SHOP_TEAMS_URL", vault.SecretString(teams.URL+"/hook/replica-token-0b2d"), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other replica loads the channels", func() bool { return loaded(follower) })
	res, err := notifyTester{follower}.TestChannel(ctx, "shop", "teams", "ops")
	if err != nil || !res.OK {
		t.Fatalf("notify test on the other replica: %+v %v", res, err)
	}
	if p := recv(t, got, "the test message"); p != "/hook/replica-token-0b2d" {
		t.Fatalf("the receiver got %s", p)
	}

	quiet, err := vault.New(vault.Options{DB: follower.DB, KDF: cheapKDF}) // no OnChange: nothing is announced
	if err != nil {
		t.Fatal(err)
	}
	if err := quiet.Unseal(ctx, vault.SecretString(masterKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := quiet.Delete(ctx, admin, "SHOP_TEAMS_URL"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*App{leader, follower} {
		r.reconcile(ctx) // the poll
		if loaded(r) {
			t.Fatal("a replica's poll did not notice the secret's deletion")
		}
	}
}
