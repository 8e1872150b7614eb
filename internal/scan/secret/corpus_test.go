package secret

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/scan/report"
)

// corpusDir holds realistic files (Kubernetes manifests, Helm values and
// templates, GitHub Actions and Azure Pipelines workflows, docker-compose,
// .env, appsettings.json, Terraform, JS/TS and Go reading environment
// variables, a PEM key, UTF-16 Windows files, a binary file) and
// expected.txt, the findings the scan must report there.
const corpusDir = "testdata/corpus"

// fakes make the provider-shaped values a template names as @@kind@@: each
// occurrence gets its own, from a fixed seed, so findings and fingerprints
// are the same on every run and no credential-shaped literal is committed.
func fakes() map[string]func(r *rand.Rand) string {
	from := func(r *rand.Rand, alpha string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	return map[string]func(r *rand.Rand) string{
		"aws-key-id": func(r *rand.Rand) string { return "AKIA" + from(r, upper32, 16) },
		"aws-secret": func(r *rand.Rand) string { return from(r, b64, 40) },
		"ghp":        func(r *rand.Rand) string { return "ghp_" + from(r, alnum, 36) },
		"npm":        func(r *rand.Rand) string { return "npm_" + from(r, alnum, 36) },
		"slack-bot": func(r *rand.Rand) string {
			return "xoxb-" + from(r, "0123456789", 12) + "-" + from(r, "0123456789", 13) + "-" + from(r, alnum, 24)
		},
		"rand32": func(r *rand.Rand) string {
			return from(r, alnum[:52], 8) + from(r, "0123456789", 2) + from(r, alnum, 22)
		},
		"azure-key": func(r *rand.Rand) string { return from(r, b64, 86) + "==" },
		"azure-conn": func(r *rand.Rand) string {
			return "DefaultEndpointsProtocol=https;AccountName=phoenixdata;AccountKey=" + from(r, b64, 86) + "=="
		},
		"ad-secret": func(r *rand.Rand) string { return from(r, alnum, 3) + "8Q~" + from(r, alnum+"_~.-", 34) },
		// the web-app providers' tokens (prefixes split for the same reason)
		"stripe-live": func(r *rand.Rand) string { return "sk" + "_live_" + "51" + from(r, alnum, 97) },
		"stripe-test": func(r *rand.Rand) string { return "sk" + "_test_" + from(r, alnum, 24) },
		"stripe-pub":  func(r *rand.Rand) string { return "pk" + "_live_" + "51" + from(r, alnum, 97) },
		"google":      func(r *rand.Rand) string { return "AI" + "zaSy" + from(r, alnum+"_-", 33) },
		"gitlab":      func(r *rand.Rand) string { return "gl" + "pat-" + from(r, alnum+"_-", 20) },
		"sendgrid":    func(r *rand.Rand) string { return "S" + "G." + from(r, alnum+"_-", 22) + "." + from(r, alnum+"_-", 43) },
		"openai": func(r *rand.Rand) string {
			return "sk" + "-proj-" + from(r, alnum+"_-", 74) + "T3Blbk" + "FJ" + from(r, alnum+"_-", 74)
		},
		"anthropic":     func(r *rand.Rand) string { return "sk" + "-ant-api03-" + from(r, alnum+"_-", 93) + "AA" },
		"docker":        func(r *rand.Rand) string { return "dckr" + "_pat_" + from(r, alnum+"_-", 27) },
		"pypi":          func(r *rand.Rand) string { return "py" + "pi-AgEIcHlwaS5vcmc" + from(r, alnum+"_-", 160) },
		"vault":         func(r *rand.Rand) string { return "hv" + "s." + from(r, alnum, 24) },
		"digitalocean":  func(r *rand.Rand) string { return "do" + "p_v1_" + from(r, hexd, 64) },
		"shopify":       func(r *rand.Rand) string { return "sh" + "pat_" + from(r, hexd, 32) },
		"twilio-key":    func(r *rand.Rand) string { return "S" + "K" + from(r, hexd, 32) },
		"twilio-secret": func(r *rand.Rand) string { return from(r, alnum, 30) + from(r, "0123456789", 2) },
		"testpypi":      func(r *rand.Rand) string { return "py" + "pi-AgENdGVzdC5weXBpLm9yZw" + from(r, alnum+"_-", 160) },
		"vault-batch":   func(r *rand.Rand) string { return "hv" + "b.AAAAAQ" + from(r, alnum+"_-", 190) },
		"vault-recover": func(r *rand.Rand) string { return "hv" + "r." + from(r, alnum, 24) },
		// a legacy token is found only with a digit: one in the middle
		"vault-legacy": func(r *rand.Rand) string { return "s" + "." + from(r, alnum, 11) + "7" + from(r, alnum, 12) },
		"docker-oat":   func(r *rand.Rand) string { return "dckr" + "_oat_" + from(r, alnum+"_-", 32) },
		"gitlab-runner": func(r *rand.Rand) string {
			return "gl" + "rt-t1_" + from(r, alnum+"_-", 27) + "." + from(r, "0123456789abcdefghijklmnopqrstuvwxyz", 9)
		},
		"gitlab-trigger": func(r *rand.Rand) string { return "gl" + "ptt-" + from(r, hexd, 40) },
		"gitlab-feed":    func(r *rand.Rand) string { return "gl" + "ft-" + from(r, alnum+"_-", 20) },
		"gitlab-workspace": func(r *rand.Rand) string {
			return "gl" + "wt-" + from(r, alnum+"_-", 36) + "." + from(r, "0123456789abcdefghijklmnopqrstuvwxyz", 9)
		},
		"gitlab-runner-reg": func(r *rand.Rand) string { return "GR" + "1348941" + from(r, alnum+"_-", 20) },
		// a batch token is b., its sealed entry's key term (1: AAAAAQ) and
		// the rest of the sealed entry; a legacy recovery token has a digit
		"vault-legacy-batch":   func(r *rand.Rand) string { return "b" + ".AAAAAQ" + from(r, alnum+"_-", 130) },
		"vault-legacy-recover": func(r *rand.Rand) string { return "r" + "." + from(r, alnum, 5) + "3" + from(r, alnum, 18) },
		"slack-app": func(r *rand.Rand) string {
			return "xa" + "pp-1-A" + from(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "-" + from(r, "0123456789", 13) + "-" + from(r, hexd, 64)
		},
		"discord-hook": func(r *rand.Rand) string {
			return "https://discord.com/api/" + "webhooks/" + "1" + from(r, "0123456789", 18) + "/" + from(r, alnum+"_-", 68)
		},
		"pem": func(r *rand.Rand) string {
			key := make([]byte, 600)
			for i := range key {
				key[i] = byte(r.IntN(256))
			}
			enc := base64.StdEncoding.EncodeToString(key)
			var b strings.Builder
			const pk = "OPENSSH PRIVATE " + "KEY-----" // split: the scan of this file finds no key block
			b.WriteString("-----BEGIN " + pk + "\n")
			for len(enc) > 70 {
				b.WriteString(enc[:70] + "\n")
				enc = enc[70:]
			}
			b.WriteString(enc + "\n-----END " + pk)
			return b.String()
		},
	}
}

// corpusFile is one file written from a template.
type corpusFile struct {
	rel   string
	data  []byte
	fakes []string // the generated values in it
}

// writeCorpus writes the corpus into dir, expanding @@kind@@ and encoding
// .utf16le/.utf16be templates (with a BOM) and .withnul ones (a binary
// file's header first). Templates keep one line per line of the written
// file but for @@pem@@, which expected.txt counts as written.
func writeCorpus(t *testing.T, dir string) []corpusFile {
	t.Helper()
	gen := fakes()
	r := rand.New(rand.NewPCG(7, 11))
	var out []corpusFile
	tree := os.DirFS(corpusDir)
	err := fs.WalkDir(tree, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "expected.txt" {
			return err
		}
		tmpl, err := fs.ReadFile(tree, rel)
		if err != nil {
			return err
		}
		f := corpusFile{rel: rel}
		parts := strings.Split(string(tmpl), "@@")
		for i := 1; i < len(parts); i += 2 {
			g := gen[parts[i]]
			if g == nil {
				t.Fatalf("%s: unknown @@%s@@", rel, parts[i])
			}
			parts[i] = g(r)
			f.fakes = append(f.fakes, parts[i])
		}
		text := strings.Join(parts, "")
		switch ext := path.Ext(f.rel); ext {
		case ".utf16le", ".utf16be":
			f.rel = strings.TrimSuffix(f.rel, ext)
			f.data = encodeUTF16(text, ext == ".utf16be")
		case ".withnul":
			f.rel = strings.TrimSuffix(f.rel, ext)
			f.data = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), text...)
		default:
			f.data = []byte(text)
		}
		dst := path.Join(dir, f.rel)
		if err := os.MkdirAll(path.Dir(dst), 0o755); err != nil {
			return err
		}
		out = append(out, f)
		return os.WriteFile(dst, f.data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readExpected(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(path.Join(corpusDir, "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	slices.Sort(want)
	return want
}

// TestCorpus scans the corpus and compares the findings, as FILE:LINE RULE,
// with expected.txt: it prints precision and recall and fails on any
// finding missed and any false alarm. Output in every format shows no
// generated value nor any quoted password of the corpus.
func TestCorpus(t *testing.T) {
	dir := t.TempDir()
	files := writeCorpus(t, dir)
	want := readExpected(t)
	r := runIn(t, dir, Options{})
	var got []string
	for _, f := range r.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.RuleID))
	}
	slices.Sort(got)
	missed, false_ := without(want, got), without(got, want)
	tp := len(got) - len(false_)
	precision, recall := 1.0, 1.0
	if len(got) > 0 {
		precision = float64(tp) / float64(len(got))
	}
	if len(want) > 0 {
		recall = float64(tp) / float64(len(want))
	}
	t.Logf("corpus: %d files, %d expected findings, %d reported: precision %.2f (%d/%d), recall %.2f (%d/%d)",
		len(files), len(want), len(got), precision, tp, len(got), recall, tp, len(want))
	for _, m := range missed {
		t.Errorf("missed: %s", m)
	}
	for _, f := range false_ {
		t.Errorf("false alarm: %s", f)
	}
	if r.Stats["binary"] != 1 || len(r.Problems) != 0 {
		t.Errorf("stats %v, problems %v: want the one binary file skipped", r.Stats, r.Problems)
	}
	out := everyFormat(t, r)
	for _, f := range files {
		for _, v := range f.fakes {
			assertHidden(t, out, f.rel, v)
		}
	}
}

// assertHidden fails when text holds secret or a piece of it longer than
// the 4 characters a redacted finding shows (pieces of 10 for long ones,
// which are random; the fixed parts of a PEM block or connection string
// are not secret).
func assertHidden(t *testing.T, text, rel, secret string) {
	t.Helper()
	n := min(len(secret), 10)
	for i := 0; i+n <= len(secret); i++ {
		piece := secret[i : i+n]
		if strings.Contains(piece, "-----") || strings.Contains(piece, "Protocol") || strings.Contains(piece, "AccountN") || strings.Contains(piece, "Endpoint") {
			continue
		}
		if strings.Contains(text, piece) {
			t.Fatalf("%s: output holds %q of a secret", rel, piece)
		}
	}
}

// without is the elements of a not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// everyFormat is r gated and written as a table, JSON and SARIF.
func everyFormat(t *testing.T, r *report.Report) string {
	t.Helper()
	report.Gate(report.Policy{}, r, r.GeneratedAt)
	var out bytes.Buffer
	for _, w := range []func(*bytes.Buffer, *report.Report) error{
		func(b *bytes.Buffer, r *report.Report) error { return report.WriteTable(b, r) },
		func(b *bytes.Buffer, r *report.Report) error { return report.WriteJSON(b, r) },
		func(b *bytes.Buffer, r *report.Report) error { return report.WriteSARIF(b, r) },
	} {
		if err := w(&out, r); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}
