package edge

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// releaseFiles is a release whose index.html names its id and its asset,
// and whose asset names the id again.
func releaseFiles(id string) map[string]string {
	asset := fmt.Sprintf("assets/index-%sx1.js", id)
	return map[string]string{
		"index.html": fmt.Sprintf(`<html data-release="%s"><script src="/%s"></script></html>`, id, asset),
		asset:        fmt.Sprintf("window.release=%q;", id),
	}
}

var pageRe = regexp.MustCompile(`data-release="(\w+)"><script src="(/[^"]+)"`)

// TestAtomicSwapUnderLoad flips between two releases 100 times while 8
// clients fetch index.html and then the asset it names. Every page must be
// exactly one release's page with that release's ETag, and every asset
// named by a page must exist (the older release's asset 404s only if the
// swap happened between the two requests, which the client then
// tolerates by re-fetching the page: it must never get a mixed body).
func TestAtomicSwapUnderLoad(t *testing.T) {
	sites := [2]*DirSite{mustSite(t, releaseFiles("relA1")), mustSite(t, releaseFiles("relB2"))}
	etags := map[string]string{}
	for _, s := range sites {
		id := pageRe.FindStringSubmatch(string(mustRead(t, s, "/index.html")))[1]
		etags[id] = s.Lookup("/index.html").Identity.ETag
	}
	e := newTestEdge(t, sites[0], Options{})
	var stop atomic.Bool
	var pages, assets, bad atomic.Int64
	var firstBad atomic.Value
	fail := func(msg string) {
		bad.Add(1)
		firstBad.CompareAndSwap(nil, msg)
	}
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				page, etag := fetch(client, e.URL+"/")
				m := pageRe.FindStringSubmatch(page)
				if m == nil || etags[m[1]] != etag {
					fail(fmt.Sprintf("page %q with ETag %q", page, etag))
					continue
				}
				pages.Add(1)
				asset, _ := fetch(client, e.URL+m[2])
				want := fmt.Sprintf("window.release=%q;", m[1])
				if asset != want && asset != "Not Found\n" {
					fail(fmt.Sprintf("asset of %s = %q", m[1], asset))
				}
				assets.Add(1)
			}
		}()
	}
	for i := range 100 {
		for pages.Load() < int64(i*5) && bad.Load() == 0 { // let clients progress between swaps
			runtime.Gosched()
		}
		e.hosts.SetSite("prod", sites[(i+1)%2])
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d inconsistent responses; first: %v", bad.Load(), firstBad.Load())
	}
	if pages.Load() < 495 {
		t.Fatalf("only %d pages fetched during the swaps", pages.Load())
	}
	if s := e.h.Snapshot()[0]; s.ByClass[5] != 0 {
		t.Fatalf("%d server errors during swaps", s.ByClass[5])
	}
}

func fetch(c *http.Client, url string) (body, etag string) {
	resp, err := c.Get(url)
	if err != nil {
		return "error: " + err.Error(), ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "error: " + err.Error(), ""
	}
	return string(b), resp.Header.Get("ETag")
}

func mustRead(t *testing.T, s Site, p string) []byte {
	t.Helper()
	f := s.Lookup(p)
	if f == nil {
		t.Fatalf("%s missing", p)
	}
	b, err := readBlob(s, &f.Identity)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAtomicSwapOfHotFilesUnderLoad: the same, for a large file the two
// releases both have with different bytes, so answers go out from the
// file pipes and the loops' answer pipes (Linux). Every answer must be
// wholly one release's bytes with that release's ETag, across 100 swaps,
// and the pipes must have been used.
func TestAtomicSwapOfHotFilesUnderLoad(t *testing.T) {
	var sites [2]*DirSite
	bodies := map[string]string{}
	for i, id := range []string{"A", "B"} {
		body := strings.Repeat(id, 60_000)
		sites[i] = mustSite(t, map[string]string{"big.bin": body})
		bodies[sites[i].Lookup("/big.bin").Identity.ETag] = body
	}
	e := newTestEdge(t, sites[0], Options{})
	var stop atomic.Bool
	var got, bad atomic.Int64
	var firstBad atomic.Value
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				body, etag := fetch(client, e.URL+"/big.bin")
				if want, ok := bodies[etag]; !ok || body != want {
					bad.Add(1)
					firstBad.CompareAndSwap(nil, fmt.Sprintf("ETag %q with %d bytes starting %.8q", etag, len(body), body))
					continue
				}
				got.Add(1)
			}
		})
	}
	for i := range 100 {
		for got.Load() < int64(i*10) && bad.Load() == 0 { // let clients progress between swaps
			runtime.Gosched()
		}
		e.hosts.SetSite("prod", sites[(i+1)%2])
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d mixed or wrong answers; first: %v", bad.Load(), firstBad.Load())
	}
	var piped uint64
	for _, c := range e.h.ConnStats() {
		piped += c.Piped
	}
	if runtime.GOOS == "linux" && piped == 0 {
		t.Fatal("no answer went from a pipe: the test does not cover them")
	}
	t.Logf("%d answers, %d from pipes", got.Load(), piped)
}
