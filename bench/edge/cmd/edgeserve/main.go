// Command edgeserve serves a folder with the Phoenix edge for benchmarks:
// edge.ServeDir, or with -alt a second release that it activates in turn
// with the first -flips times, every -every, while serving.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18081", "address to serve on")
	root := flag.String("root", "", "site folder")
	alt := flag.String("alt", "", "second release folder to flip to (activation test)")
	flips := flag.Int("flips", 100, "activations to perform with -alt")
	every := flag.Duration("every", 50*time.Millisecond, "time between activations with -alt")
	delay := flag.Duration("flip-delay", 2*time.Second, "wait before the first activation with -alt")
	loops := flag.Int("loops", 1, "event loops (threads) of the lean loop")
	reuse := flag.Bool("reuseport", false, "listen with SO_REUSEPORT (several edgeserve processes on one port)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	compress := flag.Bool("compress", false, "make br/gzip variants of files without siblings in the background, as phoenix serve does (off: the bench's sites bring their siblings, as a deployed artifact does, and the runs stay comparable)")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "edgeserve: -root is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *pprofAddr != "" {
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }()
	}
	var err error
	if *alt == "" {
		err = edge.ServeDir(ctx, *root, *listen, edge.ServeOptions{
			Ready:      func(a net.Addr) { fmt.Println("edgeserve: serving", *root, "on", a) },
			ReusePort:  *reuse,
			Loops:      *loops,
			NoCompress: !*compress,
		})
	} else {
		err = flipServe(ctx, *root, *alt, *listen, *flips, *loops, *every, *delay)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgeserve:", err)
		os.Exit(1)
	}
}

// flipServe serves a and activates b, a, b, ... n times while serving.
func flipServe(ctx context.Context, a, b, addr string, n, loops int, every, delay time.Duration) error {
	sa, err := edge.NewDirSite(ctx, a)
	if err != nil {
		return err
	}
	sb, err := edge.NewDirSite(ctx, b)
	if err != nil {
		return err
	}
	hosts := edge.NewHosts()
	hosts.SetSite("bench", sa)
	hosts.SetFallback("bench")
	h, err := edge.NewHandler(hosts, edge.Options{NotFoundPage: "/404.html"})
	if err != nil {
		return err
	}
	go func() {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
		sites := [2]edge.Site{sb, sa}
		t := time.NewTicker(every)
		defer t.Stop()
		for i := range n {
			hosts.SetSite("bench", sites[i%2])
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		slog.Info("edgeserve: activations done", "count", n)
	}()
	fmt.Println("edgeserve: serving", a, "and flipping to", b, "on", addr)
	return (&edge.Server{Handler: h, Loops: loops}).ListenAndServe(ctx, addr)
}
