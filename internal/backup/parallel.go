package backup

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// workers is how many files Create, Verify and Restore work on at once:
// encryption, hashing and decryption are CPU-bound, so one per CPU.
func workers() int { return max(runtime.GOMAXPROCS(0), 2) }

// forEach calls fn for 0..n-1 on workers() goroutines and returns the
// first error; after one, the others see ctx cancelled and no new index
// starts.
func forEach(parent context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(parent)
	g.SetLimit(workers())
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(ctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return parent.Err() // cancelled before any file failed
}
