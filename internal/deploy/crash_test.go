package deploy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/store"
)

// The crash test runs a child process (this test binary, re-executed) that
// deploys, rolls back and collects garbage in a loop over one data dir, and
// kills it with SIGKILL at a random moment. After each kill the parent opens
// the data dir like a restarting server would and checks the invariants:
// every environment points at a recorded deployment whose every blob is
// stored whole under its digest. 50 trials in crashChains chains run at
// once, each trial continuing its chain's last data dir, so damage would
// accumulate. A trial mostly waits (the child's start, its fsyncs), so the
// chains overlap; what a kill can leave behind (a partial blob, a
// half-written upload) is met by the very next trial of its chain, which
// reuses the data dir and the blob every release shares.

const crashEnv = "PHOENIX_CRASH_CHILD_DIR"

// crashTrials is how many kills the test makes in all; crashChains is how
// many data dirs take them at once. The chains are goroutines, not
// parallel subtests, which -test.parallel (GOMAXPROCS) would run two at a
// time on a 2-core machine.
const crashTrials, crashChains = 50, 4

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash trials take ~40s")
	}
	seed := uint64(time.Now().UnixNano())
	var kills atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, crashChains)
	for c := range crashChains {
		dir := t.TempDir()
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(seed, uint64(c)))
			for trial := c; trial < crashTrials && errs[c] == nil; trial += crashChains {
				killed, err := crashTrial(dir, rng)
				if err == nil {
					err = checkInvariants(dir, trial)
				}
				if killed {
					kills.Add(1)
				}
				errs[c] = err
			}
		})
	}
	wg.Wait()
	for c, err := range errs {
		if err != nil {
			t.Errorf("chain %d (seed %d): %v", c, seed, err)
		}
	}
	if n := kills.Load(); !t.Failed() && n < 40 {
		t.Fatalf("only %d of %d trials killed the child mid-work; the test is not exercising crashes", n, crashTrials)
	}
}

// crashTrial starts the child, waits until it reports being busy, lets it
// run a random while, and kills it. It reports whether the kill landed
// while the child was still working.
func crashTrial(dir string, rng *mrand.Rand) (bool, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return false, err
	}
	sc := bufio.NewScanner(stdout)
	// Kill after a random number of completed operations (0..30), so kills
	// land in every phase: upload, blob write, activation, rollback, GC.
	target := rng.IntN(30)
	ops := 0
	for ops < target && sc.Scan() {
		ops++
	}
	// Then a random extra delay inside the next operation.
	time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
	cmd.Process.Kill()
	go io.Copy(io.Discard, stdout)
	err := cmd.Wait()
	return err != nil, nil // exited by the signal, not cleanly
}

// checkInvariants opens dir as a restarting server would and checks that
// every active release's blobs are stored whole.
func checkInvariants(dir string, trial int) error {
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		return fmt.Errorf("trial %d: reopen store: %w", trial, err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, Migrations()); err != nil {
		return fmt.Errorf("trial %d: migrate: %w", trial, err)
	}
	blobs, err := local.New(filepath.Join(dir, "blobs"))
	if err != nil {
		return err
	}
	svc := New(Options{DB: db, Blobs: blobs})
	active, err := svc.Active(ctx)
	if err != nil {
		return fmt.Errorf("trial %d: active releases: %w", trial, err)
	}
	for _, r := range active {
		m, err := r.Manifest()
		if err != nil {
			return fmt.Errorf("trial %d: %s: manifest: %w", trial, r.Environment, err)
		}
		for _, b := range m.Blobs() {
			rc, err := blobs.Get(ctx, b.Digest)
			if err != nil {
				return fmt.Errorf("trial %d: %s serves deployment %d but blob %s is missing: %w", trial, r.Environment, r.Deployment.ID, b.Digest, err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			if backend.Sum(data) != b.Digest {
				return fmt.Errorf("trial %d: blob %s is damaged", trial, b.Digest)
			}
		}
	}
	return nil
}

// TestCrashChild is the child's body; it does nothing unless started by
// TestCrashSafety.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashSafety")
	}
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	blobs, _ := local.New(filepath.Join(dir, "blobs"))
	blobs.SetClock(pastGrace) // collections delete every unreferenced blob at once
	_, key, _ := sign.GenerateKey(rand.Reader)
	svc := New(Options{DB: db, Blobs: blobs, Key: key, Keep: 3})
	for _, e := range []string{"production", "staging"} {
		if err := svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: e}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		env := []string{"production", "staging"}[i%2]
		if err := childStep(svc, env, i); err != nil {
			t.Fatal(err)
		}
		fmt.Println("op", i) // the parent counts these
	}
}

func childStep(svc *Service, env string, i int) error {
	switch i % 5 {
	case 3:
		_, err := svc.Rollback(context.Background(), "site", env, 0, "crash")
		if err != nil && !isConflict(err) {
			return err
		}
		return nil
	case 4:
		_, err := svc.CollectGarbage(context.Background())
		return err
	}
	files := map[string]string{"index.html": "release " + strconv.Itoa(i), "shared.js": "same in every release"}
	// A bigger random blob makes the write window wide enough to hit.
	big := make([]byte, 256<<10)
	rand.Read(big)
	files["big.bin"] = string(big)
	m, blobMap := manifestOf("r"+strconv.Itoa(i), files)
	canon, err := m.Canonical()
	if err != nil {
		return err
	}
	up, err := svc.BeginUpload(context.Background(), "site", canon)
	if err != nil {
		return err
	}
	for _, d := range up.Missing {
		if err := svc.PutBlob(context.Background(), up.ID, d, bytes.NewReader(blobMap[d]), int64(len(blobMap[d]))); err != nil {
			return err
		}
	}
	_, err = svc.Finalize(context.Background(), up.ID, FinalizeOptions{Environment: env})
	return err
}

func isConflict(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("no earlier deployment"))
}
