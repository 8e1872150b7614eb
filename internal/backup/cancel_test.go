package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateCancelled(t *testing.T) {
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	first := create(t, r, data, time.Now())
	addBlob(t, data, []byte("a blob the cancelled backup never stores"))
	before := len(storeFiles(t, repo, "objects"))

	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := r.Create(ctx, CreateOptions{DataDir: data, Progress: func(done, total int64) {
		if calls++; calls == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Create = %v, want context.Canceled", err)
	}
	if n := len(storeFiles(t, repo, "objects")); n != before {
		t.Errorf("a cancelled Create left %d new objects", n-before)
	}
	if names, _ := readDirNames(repo); len(names) != 4 {
		t.Errorf("repository holds %v after a cancelled Create", names)
	}
	r2, err := Open(context.Background(), repo, testPass)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	list, err := r2.List(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != first.ID {
		t.Fatalf("List = %+v, %v", list, err)
	}
	rep, err := r2.Verify(context.Background(), first.ID, nil)
	if err != nil || len(rep.Problems) != 0 {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
}

// TestCreateSweepsWhatAKilledBackupLeft: a backup killed half way (SIGKILL,
// a power cut) leaves its unfinished objects as temporary files in the
// repository, and its database copy. Nothing removed them but Prune, which
// runs only once retention forgets a snapshot (90 days by default), so the
// repository kept a second copy of everything that backup had stored. The
// next Create removes them first; while another operation holds the
// repository (here a listing), it leaves them for a later one.
func TestCreateSweepsWhatAKilledBackupLeft(t *testing.T) {
	r, repo := newRepo(t)
	data, _ := dataDir(t)
	create(t, r, data, time.Now())
	left := []string{".tmp-db-123/state.db", "objects/sha256/ab/.tmp-abcdef-42", "snapshots/sha256/cd/.tmp-cdef-7"}
	for _, rel := range left {
		writeFile(t, repo, rel, []byte("left by a killed backup"), 0o600)
	}
	exist := func() (n int) {
		for _, rel := range left {
			if _, err := os.Stat(filepath.Join(repo, filepath.FromSlash(rel))); err == nil {
				n++
			}
		}
		return n
	}

	unlock, err := lockRepo(repo, false) // another operation reads the repository
	if err != nil {
		t.Fatal(err)
	}
	create(t, r, data, time.Now())
	unlock()
	if n := exist(); n != len(left) {
		t.Fatalf("a Create swept %d temporary file(s) while another operation held the repository", len(left)-n)
	}

	create(t, r, data, time.Now())
	if n := exist(); n != 0 {
		t.Errorf("%d of the temporary files a killed backup left are still there after the next backup", n)
	}
	if list, err := r.List(context.Background()); err != nil || len(list) != 3 {
		t.Errorf("List = %d snapshots, %v; want 3", len(list), err)
	}
}
