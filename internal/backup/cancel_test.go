package backup

import (
	"context"
	"errors"
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
