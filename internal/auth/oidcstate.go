package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"golang.org/x/oauth2"
)

// OIDCStateTTL is how long a started sign-in may take at the provider.
const OIDCStateTTL = 10 * time.Minute

// OIDCState is one browser's sign-in in progress: kept sealed
// (AES-256-GCM) in a short-lived cookie, so any server sharing the
// client secret can finish it and nothing in it can be read or changed.
type OIDCState struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"r"`           // where the dashboard goes afterwards
	Redirect string    `json:"u,omitempty"` // the redirect URL when not the configured one (an edge site's)
	Expires  time.Time `json:"e"`
}

func (o *OIDC) stateAEAD() (cipher.AEAD, error) {
	o.keyOnce.Do(func() {
		secret := []byte(o.cfg.ClientSecret)
		if len(secret) == 0 { // a public client: one server's own key
			secret = make([]byte, 32)
			rand.Read(secret)
		}
		o.key, o.keyErr = hkdf.Key(sha256.New, secret, nil, "phoenix oidc state v1", 32)
	})
	if o.keyErr != nil {
		return nil, o.keyErr
	}
	b, err := aes.NewCipher(o.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Start begins a sign-in: the sealed state for the cookie and the
// provider URL to send the browser to.
func (o *OIDC) Start(next string, now time.Time) (cookie, authURL string, err error) {
	return o.StartAt("", next, now)
}

// StartAt is Start with the provider sending the browser back to
// redirect (registered at the provider) instead of the configured URL.
func (o *OIDC) StartAt(redirect, next string, now time.Time) (cookie, authURL string, err error) {
	st := OIDCState{State: randomB64(), Nonce: randomB64(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Redirect: redirect, Expires: now.Add(OIDCStateTTL)}
	a, err := o.stateAEAD()
	if err != nil {
		return "", "", err
	}
	plain, err := json.Marshal(st)
	if err != nil {
		return "", "", err
	}
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	sealed := a.Seal(nonce, nonce, plain, []byte("phoenix oidc state"))
	return base64.RawURLEncoding.EncodeToString(sealed), o.authURL(st), nil
}

// Finish opens the cookie and checks it against the state the provider
// sent back; any mismatch or an expired sign-in is an error.
func (o *OIDC) Finish(cookie, state string, now time.Time) (OIDCState, error) {
	var st OIDCState
	a, err := o.stateAEAD()
	if err != nil {
		return st, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(cookie)
	if err != nil || len(raw) < a.NonceSize() {
		return st, errors.New("no sign-in was started in this browser (the state cookie is missing or unreadable)")
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], []byte("phoenix oidc state"))
	if err != nil || json.Unmarshal(plain, &st) != nil {
		return OIDCState{}, errors.New("the state cookie was not made by this server")
	}
	if !now.Before(st.Expires) {
		return OIDCState{}, errors.New("the sign-in took longer than 10 minutes")
	}
	if subtle.ConstantTimeCompare([]byte(st.State), []byte(state)) != 1 {
		return OIDCState{}, errors.New("the state the provider sent back does not match this browser's sign-in")
	}
	return st, nil
}

func randomB64() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
