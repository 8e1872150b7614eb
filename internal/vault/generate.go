package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Alphabet presets for the random generator.
var alphabets = map[string]string{
	"alnum":     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	"hex":       "0123456789abcdef",
	"base64url": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
	"symbols":   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%+-.:=@^_~",
}

func randomAlphabet(s GeneratorSpec) ([]rune, error) {
	if s.Length != 0 && (s.Length < 8 || s.Length > 4096) {
		return nil, fmt.Errorf("random length %d: use 8 to 4096", s.Length)
	}
	a := s.Alphabet
	if a == "" {
		a = "alnum"
	}
	if p, ok := alphabets[a]; ok {
		a = p
	}
	seen := map[rune]bool{}
	var out []rune
	for _, r := range a {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if len(out) < 2 {
		return nil, errors.New("random alphabet needs at least 2 distinct characters (or a preset: alnum, hex, base64url, symbols)")
	}
	return out, nil
}

// RandomToken returns length characters drawn uniformly from alphabet
// (characters or a preset name) with crypto/rand.
func RandomToken(length int, alphabet string) (Secret, error) {
	a, err := randomAlphabet(GeneratorSpec{Length: length, Alphabet: alphabet})
	if err != nil {
		return Secret{}, err
	}
	if length == 0 {
		length = 32
	}
	out := make([]rune, length)
	n := big.NewInt(int64(len(a)))
	for i := range out {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return Secret{}, err
		}
		out[i] = a[k.Int64()]
	}
	return SecretString(string(out)), nil
}

type randomGenerator struct{}

func (randomGenerator) Generate(_ context.Context, req GenerateRequest) (Secret, error) {
	return RandomToken(req.Spec.Length, req.Spec.Alphabet)
}

// commandGenerator runs the policy's command (no shell) in env with
// PHOENIX_SECRET_NAME and PHOENIX_SECRET_VERSION set; its standard output,
// minus one trailing newline, is the new value. Its output never reaches
// an error message or log.
type commandGenerator struct {
	timeout time.Duration
	env     []string // Options.CommandEnv
}

func (g commandGenerator) Generate(ctx context.Context, req GenerateRequest) (Secret, error) {
	argv := req.Spec.Command
	if len(argv) == 0 {
		return Secret{}, errors.New("no command")
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(slices.Clip(g.env), "PHOENIX_SECRET_NAME="+req.Name, "PHOENIX_SECRET_VERSION="+strconv.Itoa(req.Version))
	var out bytes.Buffer
	cmd.Stdout = &limitWriter{w: &out, n: MaxValueSize + 1}
	cmd.Stderr = io.Discard
	err := cmd.Run()
	defer wipe(out.Bytes())
	if ctx.Err() != nil {
		return Secret{}, fmt.Errorf("command %s did not finish within %s", argv[0], g.timeout)
	}
	if err != nil {
		return Secret{}, fmt.Errorf("command %s: %w (its output is not shown; run it by hand to see why)", argv[0], err)
	}
	b := bytes.TrimSuffix(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\r"))
	if len(b) > MaxValueSize {
		return Secret{}, fmt.Errorf("command %s wrote more than %d bytes", argv[0], MaxValueSize)
	}
	return NewSecret(b), nil
}

// withoutMasterKey is env without the variables that may carry the
// master key (MasterKeyEnv and MasterKeyEnv_FILE).
func withoutMasterKey(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, MasterKeyEnv) {
			out = append(out, kv)
		}
	}
	return out
}

// limitWriter keeps at most n bytes and silently drops the rest.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	k := min(len(p), l.n)
	if k > 0 {
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
