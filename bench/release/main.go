// Command release measures Phoenix's deploy path end to end against the
// physical floor measured in the same run: a full deploy of a site, a
// re-deploy after changing 1 % of its files, and rollback latency from the
// API call until the edge serves the old release.
//
//	go run ./bench/release -site DIR -phoenix bin/phoenix -work /tmp/bench-release
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/client"
)

func main() {
	site := flag.String("site", "", "site folder to deploy (copied; never modified)")
	bin := flag.String("phoenix", "bin/phoenix", "phoenix binary")
	work := flag.String("work", "/tmp/bench-release", "scratch dir on the filesystem the data dir should live on")
	rollbacks := flag.Int("rollbacks", 200, "rollbacks to time")
	label := flag.String("label", "", "name of the site in the output")
	link := flag.Bool("link", false, "deploy with --link (hard links into the blob store)")
	flag.Parse()
	if *site == "" {
		log.Fatal("-site is required")
	}
	os.RemoveAll(*work)
	must(os.MkdirAll(*work, 0o755))
	src := filepath.Join(*work, "src")
	must(exec.Command("cp", "-a", *site, src).Run())
	files := listFiles(src)
	floor := measureFloor(src, files, filepath.Join(*work, "floor-copy"))

	s := startServer(*bin, filepath.Join(*work, "data"))
	defer s.stop()
	full := timeDeploy(*bin, s, src, "v1", *link)
	changed := touchPercent(src, files, 1)
	redeploy := timeDeploy(*bin, s, src, "v2", *link)
	p50, p99, max := timeRollbacks(s, *rollbacks)

	fmt.Printf("site\t%s\tfiles=%d\tbytes=%d\tlink=%v\n", *label, len(files), totalSize(files), *link)
	fmt.Printf("floor\tsha256(2 goroutines)=%s\tcopy=%s\ttotal=%s\n", floor.hash, floor.copy, floor.hash+floor.copy)
	fmt.Printf("deploy_full\t%s\tratio_to_floor=%.2f\n", full, full.Seconds()/(floor.hash+floor.copy).Seconds())
	fmt.Printf("redeploy_1pct\t%s\tchanged_files=%d\tratio_to_full=%.3f\n", redeploy, changed, redeploy.Seconds()/full.Seconds())
	fmt.Printf("rollback\tn=%d\tp50=%s\tp99=%s\tmax=%s\n", *rollbacks, p50, p99, max)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

type file struct {
	rel  string
	size int64
}

func listFiles(dir string) []file {
	var out []file
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		must(err)
		if d.Type().IsRegular() {
			info, _ := d.Info()
			rel, _ := filepath.Rel(dir, p)
			out = append(out, file{rel, info.Size()})
		}
		return nil
	})
	return out
}

func totalSize(fs []file) (n int64) {
	for _, f := range fs {
		n += f.size
	}
	return n
}

type floorTimes struct{ hash, copy time.Duration }

// measureFloor times what any deploy must do at least: read and hash every
// file (2 goroutines, Go's SHA-NI sha256) and write one copy of the bytes
// onto the data dir's filesystem, fsynced.
func measureFloor(src string, files []file, dst string) floorTimes {
	var ft floorTimes
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(files); i += 2 {
				f, err := os.Open(filepath.Join(src, files[i].rel))
				must(err)
				h := sha256.New()
				io.Copy(h, f)
				f.Close()
			}
		}()
	}
	wg.Wait()
	ft.hash = time.Since(start)
	start = time.Now()
	must(exec.Command("cp", "-a", src, dst).Run())
	must(exec.Command("sync", "-f", dst).Run())
	ft.copy = time.Since(start)
	os.RemoveAll(dst)
	return ft
}

type server struct {
	cmd       *exec.Cmd
	api, edge string
	data      string
	client    *client.Client
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

func startServer(bin, data string) *server {
	s := &server{api: freeAddr(), edge: freeAddr(), data: data}
	s.cmd = exec.Command(bin, "server", "--data", data, "--listen", s.api, "--edge-listen", s.edge)
	must(s.cmd.Start())
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + s.api + "/api/v1/health"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 600 {
			log.Fatal("server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	must(err)
	s.client = client.New("http://"+s.api, strings.TrimSpace(string(tok)))
	return s
}

func (s *server) stop() { s.cmd.Process.Kill(); s.cmd.Wait() }

// timeDeploy runs `phoenix deploy` as a user would, against the server.
func timeDeploy(bin string, s *server, src, release string, link bool) time.Duration {
	args := []string{"deploy", src, "--env", "production", "--project", "bench", "--release", release, "--data", s.data, "-o", "json"}
	if link {
		args = append(args, "--link")
	}
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	s.client.Do(context.Background(), "PUT", client.Path("projects", "bench", "environments", "production"), api.EnvRequest{}, nil)
	start := time.Now()
	must(cmd.Run())
	return time.Since(start)
}

// touchPercent rewrites pct % of the files (every 100/pct-th) with new content.
// index.html is always among them, so the two releases differ at /.
func touchPercent(src string, files []file, pct int) int {
	n := 0
	idx := slices.IndexFunc(files, func(f file) bool { return f.rel == "index.html" })
	for i := 0; i < len(files); i += 100 / pct {
		if i == 0 && idx > 0 {
			files[0], files[idx] = files[idx], files[0]
		}
		p := filepath.Join(src, files[i].rel)
		b, err := os.ReadFile(p)
		must(err)
		b = append(b, []byte(fmt.Sprintf("\n<!-- changed %d -->\n", i))...)
		// Replace the file as a build tool does (new inode), never rewrite it
		// in place: with --link the old inode is a blob in the store.
		must(os.WriteFile(p+".new", b, 0o644))
		must(os.Rename(p+".new", p))
		n++
	}
	return n
}

// timeRollbacks alternates the production environment between its two
// deployments and times each from the API call until GET / through the
// edge returns the target release's bytes.
func timeRollbacks(s *server, n int) (p50, p99, max time.Duration) {
	var hist struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	ctx := context.Background()
	must(s.client.Do(ctx, "GET", client.Path("projects", "bench", "environments", "production", "deployments"), nil, &hist))
	if len(hist.Items) < 2 {
		log.Fatal("need two deployments")
	}
	ids := []int64{hist.Items[1].ID, hist.Items[0].ID}
	bodies := map[int64][32]byte{}
	for _, id := range ids {
		rollbackTo(s, id)
		bodies[id] = sha256.Sum256(fetch(s, "/"))
	}
	if bodies[ids[0]] == bodies[ids[1]] {
		log.Fatal("the two releases serve the same /; change index.html between them")
	}
	var lat []time.Duration
	for i := 0; i < n; i++ {
		id := ids[i%2]
		start := time.Now()
		rollbackTo(s, id)
		for sha256.Sum256(fetch(s, "/")) != bodies[id] {
			if time.Since(start) > 10*time.Second {
				log.Fatal("edge never served the rolled-back release")
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
}

func rollbackTo(s *server, id int64) {
	must(s.client.Do(context.Background(), "POST", client.Path("projects", "bench", "environments", "production", "rollback"),
		api.RollbackRequest{To: id}, nil))
}

var edgeClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

func fetch(s *server, path string) []byte {
	req, _ := http.NewRequest("GET", "http://"+s.edge+path, nil)
	req.Host = "production.bench.localhost"
	resp, err := edgeClient.Do(req)
	must(err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
