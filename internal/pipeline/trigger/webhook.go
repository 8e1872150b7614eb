package trigger

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// MaxPayload is the largest webhook body accepted.
const MaxPayload = 1 << 20

// Hook is a registered webhook trigger.
type Hook struct {
	Auth   string // "hmac" or "bearer"
	Secret string // the shared secret, resolved
	// Refuse, when set, is why every delivery is refused (401, denied
	// with this reason) before any comparison: a secret too short to
	// trust, say. It must not hold the secret.
	Refuse string
	// Fire starts the workflow; its error (e.g. a queue refusal) is
	// answered as 409.
	Fire func(ctx context.Context, p Payload) (runID int64, err error)
}

// Payload is what a webhook delivered.
type Payload struct {
	Event  string // X-GitHub-Event (push, create, ping) or "webhook"
	Ref    string // refs/heads/main, refs/tags/v1.2.0
	Branch string // from refs/heads/...
	Tag    string // from refs/tags/... or a create event of a tag
	Commit string // head commit SHA
	Repo   string // owner/name
	Actor  string // pusher or sender
}

// Denial is told about a refused delivery (bad signature or token), for
// the audit log; it must not see the secret.
type Denial struct {
	Hook   string
	Reason string
	Remote string
}

// WebhookHandler serves POST /hooks/NAME: NAME (everything after /hooks/)
// is looked up, the request is authenticated (hmac: X-Phoenix-Signature
// or X-Hub-Signature-256 "sha256=<hex>" over the body; bearer:
// Authorization: Bearer <secret>), the payload parsed and the hook fired.
// A bad signature or token is 401 and calls denied, and so is every
// delivery to a hook that refuses them all (Hook.Refuse); an unknown hook
// is 404, so is a hook without a secret (nothing fires unauthenticated).
func WebhookHandler(lookup func(name string) (Hook, bool), denied func(context.Context, Denial)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/hooks/"), "/")
		hook, ok := lookup(name)
		if !ok || hook.Secret == "" && hook.Refuse == "" {
			http.Error(w, "no such webhook", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayload))
		if err != nil {
			http.Error(w, "payload too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		if reason := authenticate(hook, r, body); reason != "" {
			if denied != nil {
				denied(r.Context(), Denial{Hook: name, Reason: reason, Remote: r.RemoteAddr})
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="phoenix-hooks"`)
			http.Error(w, "authentication failed", http.StatusUnauthorized)
			return
		}
		p, err := ParsePayload(r.Header.Get("X-GitHub-Event"), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if p.Event == "ping" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		id, err := hook.Fire(r.Context(), p)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"run": id})
	})
}

// authenticate returns why the request is refused, or "".
func authenticate(h Hook, r *http.Request, body []byte) string {
	if h.Refuse != "" {
		return h.Refuse
	}
	switch h.Auth {
	case "bearer":
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(h.Secret)) != 1 {
			return "bad or missing bearer token"
		}
		return ""
	case "hmac":
		sig := r.Header.Get("X-Phoenix-Signature")
		if sig == "" {
			sig = r.Header.Get("X-Hub-Signature-256")
		}
		if !VerifySignature(h.Secret, body, sig) {
			return "bad or missing signature"
		}
		return ""
	}
	return "hook has no authentication configured"
}

// Sign returns the "sha256=<hex>" signature of body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a "sha256=<hex>" HMAC-SHA256 signature in
// constant time.
func VerifySignature(secret string, body []byte, sig string) bool {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// ParsePayload understands GitHub push, create (tag) and ping payloads;
// any other JSON object (or an empty body) is a plain "webhook" event.
func ParsePayload(ghEvent string, body []byte) (Payload, error) {
	p := Payload{Event: "webhook"}
	if ghEvent != "" {
		p.Event = ghEvent
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return p, nil
	}
	var doc struct {
		Ref        string `json:"ref"`
		RefType    string `json:"ref_type"`
		After      string `json:"after"`
		HeadCommit *struct {
			ID string `json:"id"`
		} `json:"head_commit"`
		Repository *struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Pusher *struct {
			Name string `json:"name"`
		} `json:"pusher"`
		Sender *struct {
			Login string `json:"login"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return p, errors.New("payload is not a JSON object")
	}
	p.Commit = doc.After
	if doc.HeadCommit != nil && doc.HeadCommit.ID != "" {
		p.Commit = doc.HeadCommit.ID
	}
	if strings.Trim(p.Commit, "0") == "" {
		p.Commit = "" // a deleted ref
	}
	if doc.Repository != nil {
		p.Repo = doc.Repository.FullName
	}
	if doc.Pusher != nil {
		p.Actor = doc.Pusher.Name
	} else if doc.Sender != nil {
		p.Actor = doc.Sender.Login
	}
	switch {
	case p.Event == "create" && doc.RefType == "tag":
		p.Tag, p.Ref = doc.Ref, "refs/tags/"+doc.Ref
	case p.Event == "create" && doc.RefType == "branch":
		p.Branch, p.Ref = doc.Ref, "refs/heads/"+doc.Ref
	default:
		p.Ref = doc.Ref
		if t, ok := strings.CutPrefix(doc.Ref, "refs/tags/"); ok {
			p.Tag = t
		} else if b, ok := strings.CutPrefix(doc.Ref, "refs/heads/"); ok {
			p.Branch = b
		}
	}
	return p, nil
}
