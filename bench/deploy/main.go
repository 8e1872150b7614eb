//go:build linux

// Command deploy measures artifact.Build on a generated site against the
// physical floor measured in the same run on the same machine:
//
//	floor  = sha256 of every file with 2 goroutines
//	       + one copy of every file into a fresh folder on the work filesystem
//	full   = Build into an empty local blob store (hash, precompress, store, syncfs)
//	rebuild= Build again after changing 1 % of the files (same store and cache)
//
// Usage (see run.sh, which also generates the site):
//
//	go run ./bench/deploy -site /tmp/x/site/large -work /tmp/x/work
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

func main() {
	site := flag.String("site", "", "site folder (copied first, so the original stays untouched)")
	work := flag.String("work", "", "scratch folder on the filesystem under test (emptied)")
	frac := flag.Float64("change", 0.01, "fraction of files changed before the re-build")
	br := flag.Int("brotli", artifact.DefaultBrotliLevel, "brotli level (-1 off)")
	gz := flag.Int("gzip", artifact.DefaultGzipLevel, "gzip level (-1 off)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the full build here")
	flag.StringVar(&reProfile, "reprofile", "", "write a CPU profile of the 1 % re-build here")
	flag.Parse()
	if *site == "" || *work == "" {
		fmt.Fprintln(os.Stderr, "usage: deploy -site DIR -work DIR")
		os.Exit(2)
	}
	if err := run(*site, *work, *frac, *br, *gz); err != nil {
		fmt.Fprintln(os.Stderr, "deploy bench:", err)
		os.Exit(1)
	}
}

var cpuProfile, reProfile string

type row struct {
	name string
	d    time.Duration
	note string
	cpu  time.Duration // CPU time (user+sys) this process used in the step
}

// cpuNow returns the process's CPU time so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var lastCPU time.Duration

// stepCPU returns the CPU time used since the previous call.
func stepCPU() time.Duration {
	now := cpuNow()
	d := now - lastCPU
	lastCPU = now
	return d
}

func run(site, work string, frac float64, br, gz int) error {
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(work)
	files, total, err := list(site)
	if err != nil {
		return err
	}
	fmt.Printf("# site %s: %d files, %.1f MiB; GOMAXPROCS=%d; %s\n", site, len(files), mib(total), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	src := filepath.Join(work, "src")
	if err := copyTree(site, src, files); err != nil { // the tree Build reads and the bench edits
		return err
	}
	runtime.GC()
	var rows []row
	stepCPU()
	t := time.Now()
	if err := hashAll(src, files, 2); err != nil {
		return err
	}
	hashD := time.Since(t)
	rows = append(rows, row{"floor: sha256, 2 goroutines", hashD, rate(total, hashD), stepCPU()})
	stepCPU()
	t = time.Now()
	if err := copyTree(src, filepath.Join(work, "copy"), files); err != nil {
		return err
	}
	copyD := time.Since(t)
	rows = append(rows, row{"floor: copy into a fresh folder", copyD, rate(total, copyD), stepCPU()})
	stepCPU()
	t = time.Now()
	syncfs(work)
	rows = append(rows, row{"(info) sync of that copy", time.Since(t), "not in the floor", stepCPU()})
	os.RemoveAll(filepath.Join(work, "copy"))
	syncfs(work)
	floor := hashD + copyD
	rows = append(rows, row{"floor = hash + copy", floor, "", 0})

	store, err := local.New(filepath.Join(work, "store"))
	if err != nil {
		return err
	}
	opts := artifact.BuildOptions{BrotliLevel: br, GzipLevel: gz, CacheFile: filepath.Join(work, "build-cache.json")}
	time.Sleep(2500 * time.Millisecond) // let the copied files age past the racy-clean window
	stop := startProfile()
	stepCPU()
	t = time.Now()
	ts := &timedStore{Store: store}
	m, err := artifact.Build(context.Background(), src, ts, opts)
	if err != nil {
		return err
	}
	copyFull := time.Since(t)
	commit := ts.commit
	stop()
	nv, vb := variants(m)
	rows = append(rows, row{"full build, files copied into the store", copyFull, fmt.Sprintf("%.2fx floor; %d files, %d variants (%.1f MiB); of which commit (syncfs, renames) %.2f s", ratio(copyFull, floor), len(m.Files), nv, mib(vb), commit.Seconds()), stepCPU()})

	// The same from scratch with LinkFiles: hard links instead of copies.
	// This store is the one the re-builds below use.
	os.RemoveAll(filepath.Join(work, "store"))
	os.Remove(opts.CacheFile)
	syncfs(work)
	ls, err := local.New(filepath.Join(work, "store-link"))
	if err != nil {
		return err
	}
	store = ls
	timed := &timedStore{Store: ls}
	opts.LinkFiles = true
	stepCPU()
	t = time.Now()
	if _, err = artifact.Build(context.Background(), src, timed, opts); err != nil {
		return err
	}
	full := time.Since(t)
	commit = timed.commit
	rows = append(rows, row{"full build, LinkFiles (hard links)", full, fmt.Sprintf("%.2fx floor; of which commit %.2f s", ratio(full, floor), commit.Seconds()), stepCPU()})

	stepCPU()
	t = time.Now()
	if _, err := artifact.Build(context.Background(), src, store, opts); err != nil {
		return err
	}
	rows = append(rows, row{"re-build, nothing changed", time.Since(t), "", stepCPU()})

	changed, err := change(src, files, frac)
	if err != nil {
		return err
	}
	time.Sleep(2500 * time.Millisecond)
	cpuProfile = reProfile
	stop = startProfile()
	stepCPU()
	t = time.Now()
	m2, err := artifact.Build(context.Background(), src, store, opts)
	if err != nil {
		return err
	}
	re := time.Since(t)
	stop()
	rows = append(rows, row{fmt.Sprintf("re-build after changing %d files (%.0f %%)", changed, frac*100), re, fmt.Sprintf("%.1f %% of full build", 100*ratio(re, full)), stepCPU()})

	stepCPU()
	t = time.Now()
	noCache := opts
	noCache.CacheFile = ""
	noCache.Previous = []*artifact.Manifest{m2}
	if _, err := artifact.Build(context.Background(), src, store, noCache); err != nil {
		return err
	}
	rows = append(rows, row{"(info) re-build without stat cache", time.Since(t), "re-reads and re-hashes every file; variants from the previous manifest", stepCPU()})

	stepCPU()
	t = time.Now()
	probs, err := artifact.VerifyWith(context.Background(), m2, nil, nil, store, artifact.VerifyOptions{})
	if err != nil {
		return err
	}
	rows = append(rows, row{"(info) Verify, re-hash every blob", time.Since(t), fmt.Sprintf("%d problems (1 expected: unsigned)", len(probs)), stepCPU()})
	stepCPU()
	t = time.Now()
	if _, err := artifact.VerifyWith(context.Background(), m2, nil, nil, store, artifact.VerifyOptions{SkipContent: true}); err != nil {
		return err
	}
	rows = append(rows, row{"(info) Verify, stat only", time.Since(t), "", stepCPU()})

	print(rows)
	fmt.Printf("\nfull build (copy) / floor = %.2f (target <= 1.5): %s\n", ratio(copyFull, floor), verdict(ratio(copyFull, floor) <= 1.5))
	fmt.Printf("full build (link) / floor = %.2f (target <= 1.5): %s\n", ratio(full, floor), verdict(ratio(full, floor) <= 1.5))
	fmt.Printf("re-build / full (link)    = %.3f (target < 0.10): %s\n", ratio(re, full), verdict(ratio(re, full) < 0.10))
	fmt.Printf("re-build / full (copy)    = %.3f (target < 0.10): %s\n", ratio(re, copyFull), verdict(ratio(re, copyFull) < 0.10))
	return nil
}

func startProfile() func() {
	if cpuProfile == "" {
		return func() {}
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return func() {}
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func print(rows []row) {
	fmt.Println("\n| step | seconds | our CPU s | note |\n| --- | ---: | ---: | --- |")
	for _, r := range rows {
		cpu := "-"
		if r.cpu > 0 {
			cpu = fmt.Sprintf("%.2f", r.cpu.Seconds())
		}
		fmt.Printf("| %s | %.2f | %s | %s |\n", r.name, r.d.Seconds(), cpu, r.note)
	}
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
func mib(n int64) float64              { return float64(n) / (1 << 20) }
func rate(n int64, d time.Duration) string {
	return fmt.Sprintf("%.0f MiB/s", mib(n)/d.Seconds())
}

func variants(m *artifact.Manifest) (int, int64) {
	n, b := 0, int64(0)
	for _, f := range m.Files {
		for _, v := range f.Variants {
			n++
			b += v.Size
		}
	}
	return n, b
}

// list returns the relative paths of the regular files under root.
func list(root string) ([]string, int64, error) {
	var out []string
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel)
		total += info.Size()
		return nil
	})
	sort.Strings(out)
	return out, total, err
}

func hashAll(root string, files []string, workers int) error {
	return parallel(files, workers, func(rel string, buf []byte) error {
		f, err := os.Open(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		_, err = io.CopyBuffer(h, f, buf)
		return err
	})
}

// copyTree copies the files with 2 goroutines, the way cp would.
func copyTree(from, to string, files []string) error {
	return parallel(files, 2, func(rel string, _ []byte) error {
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		in, err := os.Open(filepath.Join(from, rel))
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

func parallel(files []string, workers int, fn func(string, []byte) error) error {
	ch := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			for rel := range ch {
				if err := fn(rel, buf); err != nil {
					errs <- err
					for range ch {
					}
					return
				}
			}
		})
	}
	for _, f := range files {
		ch <- f
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// change edits every 1/frac-th file (not .gz siblings): text gets a comment
// appended, other files a few bytes; an existing .gz sibling is regenerated,
// as a real site build would.
func change(root string, files []string, frac float64) (int, error) {
	step := int(1 / frac)
	n := 0
	for i, rel := range files {
		if i%step != 0 || strings.HasSuffix(rel, ".gz") {
			continue
		}
		p := filepath.Join(root, rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return n, err
		}
		data = append(data, []byte(fmt.Sprintf("\n/* changed %d */\n", i))...)
		if err := recreate(p, data); err != nil {
			return n, err
		}
		if _, err := os.Stat(p + ".gz"); err == nil {
			var buf bytes.Buffer
			w, _ := gzip.NewWriterLevel(&buf, 9)
			w.Write(data)
			w.Close()
			if err := recreate(p+".gz", buf.Bytes()); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

// recreate replaces a file the way build tools do (a new file, not an
// in-place write), which LinkFiles relies on.
func recreate(p string, data []byte) error {
	if err := os.Remove(p); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// timedStore measures how long the batch commit (durability) takes.
type timedStore struct {
	*local.Store
	commit time.Duration
}

func (t *timedStore) Batch() backend.Batch { return &timedBatch{t.Store.Batch(), t} }

type timedBatch struct {
	backend.Batch
	s *timedStore
}

func (b *timedBatch) Commit(ctx context.Context) error {
	t := time.Now()
	err := b.Batch.Commit(ctx)
	b.s.commit = time.Since(t)
	return err
}
