package local

import (
	"os"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Batches up to these sizes fsync each file or directory; larger ones flush
// the whole filesystem with one syncfs(2), which is cheaper than thousands of
// fsyncs but also waits for other writers' dirty data.
const (
	maxFsyncFiles = 512
	maxFsyncDirs  = 64
)

// fsyncFiles fsyncs the files with a few goroutines, so the filesystem can
// merge the journal commits.
func fsyncFiles(pending map[backend.Digest]string) error {
	paths := make([]string, 0, len(pending))
	for _, p := range pending {
		paths = append(paths, p)
	}
	return parallelSync(paths)
}

func fsyncDirs(dirs map[string]bool) error {
	paths := make([]string, 0, len(dirs))
	for d := range dirs {
		paths = append(paths, d)
	}
	return parallelSync(paths)
}

func parallelSync(paths []string) error {
	ch := make(chan string)
	errs := make(chan error, len(paths))
	var wg sync.WaitGroup
	for range min(8, len(paths)) {
		wg.Go(func() {
			for p := range ch {
				if err := fsyncPath(p); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, p := range paths {
		ch <- p
	}
	close(ch)
	wg.Wait()
	close(errs)
	return <-errs
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
