package vault

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"plain", "A=1\nB=two words\n", map[string]string{"A": "1", "B": "two words"}},
		{"comments and blanks", "# top\n\n  # indented\nA=1 # note\nB=x#y\n", map[string]string{"A": "1", "B": "x#y"}},
		{"export and spaces", "export A = 1 \n\tB=\t2\n", map[string]string{"A": "1", "B": "2"}},
		{"empty", "A=\nB=\"\"\nC=''", map[string]string{"A": "", "B": "", "C": ""}},
		{"double quoted escapes", `A="line1\nline2\t\"q\" \\ \$HOME \x"`, map[string]string{"A": "line1\nline2\t\"q\" \\ $HOME \\x"}},
		{"single quoted literal", `A='no \n escapes "here" #not a comment'`, map[string]string{"A": `no \n escapes "here" #not a comment`}},
		{"multi-line double", "A=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\nB=2", map[string]string{"A": "-----BEGIN KEY-----\nabc\n-----END KEY-----", "B": "2"}},
		{"multi-line single", "A='x\ny'\n", map[string]string{"A": "x\ny"}},
		{"comment after quote", `A="v" # c`, map[string]string{"A": "v"}},
		{"CRLF", "A=1\r\nB=\"2\"\r\n", map[string]string{"A": "1", "B": "2"}},
		{"equals in value", "URL=https://x/?a=b&c=d", map[string]string{"URL": "https://x/?a=b&c=d"}},
		{"no trailing newline", "A=1", map[string]string{"A": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDotenv(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for _, e := range got {
				m[e.Name] = e.Value.Reveal()
			}
			if len(m) != len(tt.want) {
				t.Fatalf("got %d entries, want %d", len(m), len(tt.want))
			}
			for k, v := range tt.want {
				if m[k] != v {
					t.Errorf("%s = %q, want %q", k, m[k], v)
				}
			}
		})
	}
}

func TestParseDotenvErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no equals", "A=1\nJUSTTEXT-s3cr3t\n", "line 2: expected KEY=value"},
		{"bad name", "1A=s3cr3t", "line 1: 1A is not a valid name"},
		{"duplicate", "A=1\nB=2\nA=s3cr3t", "line 3: A is already set on line 1"},
		{"unterminated double", "A=1\nB=\"s3cr3t\nmore", "line 2: B: the quote opened here is never closed"},
		{"unterminated single", "B='s3cr3t", "line 1: B: the quote opened here is never closed"},
		{"text after quote", "A=\"x\" s3cr3t", "line 1: A: unexpected text after the closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDotenv(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error leaks a value: %v", err)
			}
		})
	}
}

// A key that may be a value pasted where the key belongs (a token, a
// header line) or a credential in a name's shape is named in an error as
// the audit log names it, by a fingerprint: the error reaches terminals
// and CI logs.
func TestParseDotenvErrorsHideOddKeys(t *testing.T) {
	pasted := "Bearer-" + strings.Repeat("s3cr3t", 4)
	for name, in := range map[string]string{
		"duplicate credential": githubLike + "=1\n" + githubLike + "=2",
		"unterminated":         awsLike + "=\"open",
		"pasted value":         pasted + "=x",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDotenv(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), "sha256") {
				t.Fatalf("err = %v, want the key by its fingerprint", err)
			}
			for _, secret := range []string{githubLike, awsLike, pasted[:20]} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error shows the key: %v", err)
				}
			}
		})
	}
}

func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B=\"x\\ny\"\n# c\n", "C='a\nb'", "D=v # c\r\nE=", "F=\"unterminated", "=x", "G=\"a\\\"b\" #",
		"H=\"$x\\$y\\\\\"\nI='\"'\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseDotenv(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, e := range entries {
			if !ValidName(e.Name) || e.Line < 1 {
				t.Fatalf("entry %q at line %d", e.Name, e.Line)
			}
		}
		// What parses formats back to a file that parses to the same values.
		var buf bytes.Buffer
		if err := FormatDotenv(&buf, entries); err != nil {
			t.Fatal(err)
		}
		again, err := ParseDotenv(&buf)
		if err != nil {
			t.Fatalf("formatted output does not parse: %v", err)
		}
		if len(again) != len(entries) {
			t.Fatalf("%d entries, then %d", len(entries), len(again))
		}
		for i := range entries {
			if again[i].Name != entries[i].Name || !again[i].Value.Equal(entries[i].Value) {
				t.Fatalf("entry %d (%s) changed in the round trip", i, entries[i].Name)
			}
		}
	})
}

func TestImport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "EXISTING", "same")
	e.set(t, "CHANGED", "old-value")
	entries, err := ParseDotenv(strings.NewReader("EXISTING=same\nCHANGED=new-value\nNEW_ONE=fresh\nPLACEHOLDER=\n"))
	if err != nil {
		t.Fatal(err)
	}
	prod := true
	res, err := e.v.Import(ctx, admin, entries, ImportOptions{Production: &prod, Tags: map[string]string{"source": "dotenv"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []ImportResult{{Name: "EXISTING", Line: 1, Skipped: "unchanged"},
		{Name: "CHANGED", Line: 2, Skipped: "exists (use --overwrite for a new version)"}, {Name: "NEW_ONE", Line: 3, Version: 1},
		{Name: "PLACEHOLDER", Line: 4, Skipped: "empty value"}} // it became an empty secret
	if len(res) != len(want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("result %d = %+v, want %+v", i, res[i], want[i])
		}
	}
	if in, _ := e.v.Describe(ctx, admin, "NEW_ONE"); !in.Production || in.Tags["source"] != "dotenv" {
		t.Fatalf("imported secret = %+v", in)
	}
	if _, err := e.v.Describe(ctx, admin, "PLACEHOLDER"); err == nil {
		t.Fatal("an empty value was imported as a secret")
	}
	res, err = e.v.Import(ctx, admin, entries, ImportOptions{Overwrite: true})
	if err != nil || res[1].Version != 2 || res[0].Skipped != "unchanged" || res[2].Skipped != "unchanged" {
		t.Fatalf("overwrite = %+v, %v", res, err)
	}
	if got := e.get(t, "CHANGED", 0); got != "new-value" {
		t.Fatalf("CHANGED = %q", got)
	}
	// All or nothing: a deleted secret in the file fails the whole import.
	e.v.Delete(ctx, admin, "EXISTING")
	bad, _ := ParseDotenv(strings.NewReader("ANOTHER=1111\nEXISTING=2222\n"))
	if _, err := e.v.Import(ctx, admin, bad, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "line 2: secret EXISTING is deleted") {
		t.Fatalf("import with a deleted secret: %v", err)
	}
	if _, err := e.v.Describe(ctx, admin, "ANOTHER"); err == nil {
		t.Fatal("a failed import left a secret behind")
	}
}
