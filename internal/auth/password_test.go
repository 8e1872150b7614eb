package auth

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "horse") {
		t.Fatalf("hash = %q", h)
	}
	if !VerifyPassword("correct horse battery", h) || VerifyPassword("correct horse batterY", h) {
		t.Fatal("verify wrong")
	}
	h2, _ := HashPassword("correct horse battery", cheap)
	if h == h2 {
		t.Fatal("no salt")
	}
	for name, bad := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuu",
		"huge memory":   "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"zero time":     "$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"bad salt":      "$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"noncanonical":  "$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"wrong version": "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
	} {
		if VerifyPassword("x", bad) {
			t.Errorf("%s: verified", name)
		}
		if _, _, _, err := parseHash(bad); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// FuzzParseHash: stored hashes are outside input (a restored backup, an
// edited database); parsing must not panic or accept absurd costs.
func FuzzParseHash(f *testing.F) {
	h, _ := HashPassword("correct horse battery", cheap)
	f.Add(h)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=-1,t=1,p=1$c2FsdA$a2V5")
	f.Fuzz(func(t *testing.T, s string) {
		a, salt, key, err := parseHash(s)
		if err != nil {
			return
		}
		if a.Memory > 1<<20 || a.Time > 16 || a.Threads == 0 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("accepted %q: %+v", s, a)
		}
	})
}

func TestParseRoles(t *testing.T) {
	good := "roles:\n  release-manager:\n    description: ships\n    permissions: [read, deploy, approve]\n  auditor:\n    permissions: [audit.read]\n"
	rs, err := ParseRoles("roles.yaml", []byte(good))
	if err != nil || len(rs) != 2 || rs[0].Name != "auditor" || !rs[1].Has(Approve) || rs[1].Has(GC) {
		t.Fatalf("roles = %+v, %v", rs, err)
	}
	bad := map[string]struct{ yaml, says string }{
		"unknown permission": {"roles:\n  x:\n    permissions: [root]\n", `unknown permission "root"`},
		"built-in name":      {"roles:\n  admin:\n    permissions: [read]\n", "built-in"},
		"no permissions":     {"roles:\n  x:\n    description: y\n", "empty"},
		"unknown key":        {"roles:\n  x:\n    perms: [read]\n", "line 3"},
		"bad name":           {"roles:\n  Big Boss:\n    permissions: [read]\n", "role name"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRoles("roles.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "roles.yaml") {
				t.Fatalf("err = %v, want %q", err, c.says)
			}
		})
	}
}

func FuzzParseRoles(f *testing.F) {
	f.Add([]byte("roles:\n  rm:\n    permissions: [read, deploy]\n"))
	f.Add([]byte("roles: {a: {permissions: ['*']}}"))
	f.Add([]byte("- 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRoles("f", b)
		if err != nil {
			return
		}
		for _, r := range rs {
			if checkRole(r) != nil {
				t.Fatalf("accepted invalid role %+v", r)
			}
		}
	})
}
