package app

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
)

// A run's step logs are files in the data dir of the replica that ran it.
// The other replicas forward a request for them there: the run records
// its runner's address (ReplicaOptions.Advertise), and the runner checks
// the request's token or session itself (the database is shared).

// forwardedHeader marks a request one replica forwarded to another, which
// answers it itself (never forwards it again).
const forwardedHeader = "X-Phoenix-Forwarded"

// advertise is the API address other replicas reach this one at.
func (a *App) advertise() string {
	if a.opts.Replica.Advertise != "" {
		return strings.TrimSuffix(a.opts.Replica.Advertise, "/")
	}
	return a.APIURL()
}

// runner is what a run this server claims records as its runner: its
// advertised address with replicas, else nothing (one server has all logs).
func (a *App) runner() string {
	if !a.opts.Replica.On || a.apiAddr == nil {
		return ""
	}
	return a.advertise()
}

// logsFromRunner forwards GET /api/v1/runs/{id}/logs to the replica that
// ran the run, when that is another one.
func (a *App) logsFromRunner(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := runLogsPath(r)
		if !ok || r.Header.Get(forwardedHeader) != "" {
			next.ServeHTTP(w, r)
			return
		}
		runner, err := a.Pipeline.Runner(r.Context(), id)
		if err != nil || runner == "" || runner == a.advertise() {
			next.ServeHTTP(w, r) // an unknown run gets the API's own answer
			return
		}
		u, err := url.Parse(runner)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			next.ServeHTTP(w, r)
			return
		}
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.Out.Header.Set(forwardedHeader, "1")
			},
			FlushInterval: -1, // follow streams
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				a.log.Warn("replicas: the replica that ran the run does not answer for its logs", "run", id, "runner", runner, "err", err)
				http.Error(w, fmt.Sprintf("the logs of run %d are on the replica at %s, which does not answer", id, runner), http.StatusBadGateway)
			},
		}
		rp.ServeHTTP(w, r)
	})
}

// runLogsPath reads the run id of a GET /api/v1/runs/{id}/logs request.
func runLogsPath(r *http.Request) (int64, bool) {
	if r.Method != http.MethodGet {
		return 0, false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/runs/")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "/logs")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == num // no "+1" or "01": the API's own route answers those
}
