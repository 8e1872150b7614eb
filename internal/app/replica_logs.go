package app

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// A run's step logs are files in the data dir of the replica that ran it,
// and each finished step's log is also stored in the database (masked,
// compressed; pipeline.StoredLogCap). A finished run's logs are served
// from the database by whichever replica is asked. The logs of a run
// still running are forwarded to its runner: the run records its address
// (ReplicaOptions.Advertise), and the runner checks the request's token
// or session itself (the database is shared). When the runner does not
// answer, the replica asked serves the steps stored so far.

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
		if err != nil || runner == "" || runner == a.advertise() || a.runFinished(r, id) {
			next.ServeHTTP(w, r) // an unknown run gets the API's own answer; a finished one's logs are stored
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
				a.log.Warn("replicas: the replica that runs the run does not answer for its logs; serving the steps stored so far",
					"run", id, "runner", runner, "err", err)
				next.ServeHTTP(w, r)
			},
		}
		rp.ServeHTTP(w, r)
	})
}

// runFinished reports whether run id has finished (its logs are stored).
func (a *App) runFinished(r *http.Request, id int64) bool {
	d, err := a.Pipeline.Get(r.Context(), id)
	return err == nil && pipeline.Finished(d.Status)
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
