package waf

import (
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/corazawaf/coraza/v3/types"
)

// anomalyRule is the CRS rule that blocks when the inbound anomaly score
// reaches the threshold.
const anomalyRule = 949110

// inspect runs the CRS over r and returns the rule id that makes the CRS
// block it, or "".
func (e *engine) inspect(r *http.Request, client netip.Addr) string {
	if e == nil {
		return ""
	}
	if oversize(r) {
		return RuleOversize
	}
	tx := e.waf.NewTransaction()
	defer tx.Close()
	it := e.process(tx, r, client)
	if it == nil {
		return ""
	}
	return ruleID(it.RuleID, tx.MatchedRules())
}

func (e *engine) process(tx types.Transaction, r *http.Request, client netip.Addr) *types.Interruption {
	addr := ""
	if client.IsValid() {
		addr = client.Unmap().String()
	}
	tx.ProcessConnection(addr, 0, "", 0)
	tx.ProcessURI(requestURI(r), r.Method, r.Proto)
	for k, vs := range r.Header {
		for _, v := range vs {
			tx.AddRequestHeader(k, v)
		}
	}
	if r.Host != "" {
		tx.AddRequestHeader("Host", r.Host)
		tx.SetServerName(r.Host)
	}
	for _, te := range r.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return it
	}
	if body := peekBody(r); len(body) > 0 {
		if it, _, _ := tx.WriteRequestBody(body); it != nil {
			return it
		}
	}
	it, _ := tx.ProcessRequestBody()
	return it
}

// oversize reports whether r's target or headers exceed what is inspected.
func oversize(r *http.Request) bool {
	if len(requestURI(r)) > MaxTargetInspect {
		return true
	}
	n := len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			if n += len(k) + len(v); n > MaxHeaderInspect {
				return true
			}
		}
	}
	return false
}

// requestURI is the request target as the client sent it.
func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	if r.URL != nil {
		return r.URL.RequestURI()
	}
	return "/"
}

// peekBody returns r's body when it is at most MaxBodyInspect bytes, and
// nil otherwise; either way r.Body still yields the whole body afterwards.
func peekBody(r *http.Request) []byte {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || r.ContentLength > MaxBodyInspect {
		return nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyInspect+1))
	r.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
	if err != nil || len(buf) > MaxBodyInspect {
		return nil
	}
	return buf
}

// peekedBody is a request body whose first bytes were read for inspection.
type peekedBody struct {
	io.Reader
	io.Closer
}

// ruleID names the rule behind an interruption: for the anomaly score, the
// matched CRS rule of highest severity (the first of them in rule order);
// otherwise the interrupting rule itself.
func ruleID(interrupting int, matched []types.MatchedRule) string {
	if interrupting != anomalyRule {
		return prefixed(interrupting)
	}
	best, bestSev := anomalyRule, types.RuleSeverity(1<<30)
	for _, m := range matched {
		meta := m.Rule()
		sev := meta.Severity()
		if sev != types.RuleSeverityUnset && sev < bestSev && meta.ID() != anomalyRule {
			best, bestSev = meta.ID(), sev
		}
	}
	return prefixed(best)
}

// prefixed is "crs-<id>" for Core Rule Set ids (900000-999999) and
// "waf-<id>" for the engine's own (Coraza's recommended 2000xx rules).
func prefixed(id int) string {
	if 900000 <= id && id <= 999999 {
		return "crs-" + strconv.Itoa(id)
	}
	return "waf-" + strconv.Itoa(id)
}
