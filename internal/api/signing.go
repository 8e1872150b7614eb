package api

// SigningKey is what GET /api/v1/signing-key answers: the public half of
// the key this server signs every artifact with, so that a client on
// another machine checks an artifact file against the server's key
// (phoenix deploy FILE, phoenix artifact verify --server) and a person
// with minisign (-p the saved public_key).
type SigningKey struct {
	KeyID     string `json:"key_id"`     // as minisign prints it
	PublicKey string `json:"public_key"` // the minisign public key file's text, as <data>/keys/signing.pub holds it
}
