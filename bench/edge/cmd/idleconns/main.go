// Command idleconns measures what idle keep-alive connections cost a
// server: it reads the resident memory of the server's processes, opens -n
// connections that each make one request and read the whole answer, then
// reads the memory again with all of them open and idle, and prints the
// difference per connection (bench/edge/run.sh, step "idle").
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "server address")
	n := flag.Int("n", 5000, "connections to open")
	path := flag.String("path", "/", "request path")
	pids := flag.String("pids", "", "comma-separated process ids of the server")
	settle := flag.Duration("settle", time.Second, "wait after the last answer before reading memory")
	useTLS := flag.String("tls", "", "speak TLS with this ALPN protocol (h2 or http/1.1; the certificate is not checked)")
	flag.Parse()
	var err error
	if *useTLS != "" {
		err = runTLS(*addr, *path, *pids, *useTLS, *n, *settle)
	} else {
		err = run(*addr, *path, *pids, *n, *settle)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idleconns:", err)
		os.Exit(1)
	}
}

// run opens idle plain HTTP/1.1 connections.
func run(addr, path, pids string, n int, settle time.Duration) error {
	req := "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: idleconns\r\nAccept: */*\r\n\r\n"
	return measure(pids, n, settle, "", func(int) (func(), error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		return func() { c.Close() }, exchange(c, req)
	})
}

// measure reads the memory of the server's processes, opens n connections
// with open (which also returns how to close one), waits settle and prints
// what the idle connections added; label goes after the count.
func measure(pidList string, n int, settle time.Duration, label string, open func(i int) (func(), error)) error {
	pids := strings.Split(pidList, ",")
	before, err := rssKB(pids)
	if err != nil {
		return err
	}
	closers := make([]func(), 0, n)
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for i := range n {
		c, err := open(i)
		if c != nil {
			closers = append(closers, c)
		}
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
	}
	time.Sleep(settle) // let the server finish its bookkeeping; memory is read once
	after, err := rssKB(pids)
	if err != nil {
		return err
	}
	fmt.Printf("conns=%d%s rss_before_kb=%d rss_idle_kb=%d bytes_per_conn=%d\n",
		n, label, before, after, (after-before)*1024/int64(n))
	return nil
}

// exchange sends req on c and reads the whole answer, keeping c open.
func exchange(c net.Conn, req string) error {
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.Close {
		return fmt.Errorf("the server closes the connection after one request")
	}
	return nil
}

// rssKB sums VmRSS of the processes.
func rssKB(pids []string) (int64, error) {
	var sum int64
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strings.TrimSpace(p) + "/status")
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				if err != nil {
					return 0, err
				}
				sum += kb
			}
		}
	}
	return sum, nil
}

// runTLS is run over TLS: one http.Transport per connection, each left
// holding its connection idle after one request (HTTP/2 when proto is h2).
func runTLS(addr, path, pids, proto string, n int, settle time.Duration) error {
	return measure(pids, n, settle, " tls="+proto, func(i int) (func(), error) {
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, NextProtos: []string{proto}}, // a bench against a self-signed loopback server
			ForceAttemptHTTP2: proto == "h2",
			MaxConnsPerHost:   1,
			IdleConnTimeout:   time.Hour,
		}
		resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + path)
		if err != nil {
			return tr.CloseIdleConnections, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && i == 0 && resp.Proto != map[string]string{"h2": "HTTP/2.0", "http/1.1": "HTTP/1.1"}[proto] {
			err = fmt.Errorf("the server answered with %s, not %s", resp.Proto, proto)
		}
		return tr.CloseIdleConnections, err
	})
}
