package api

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestPutBlobCutShortIsAConflict: a blob whose bytes are not the blob
// (altered on the way; cut short: deploy's TestPutBlobRejectsBadContent) is
// answered 409 "conflict", which the
// command line exits 1 with (send it again), not 400 "invalid" (exit 2:
// the command line is wrong); sent again, it is stored.
func TestPutBlobCutShortIsAConflict(t *testing.T) {
	f := newFixture(t)
	id, d, content := f.upload()
	path := "/api/v1/uploads/" + id + "/blobs/" + string(d)
	altered := append([]byte{}, content...)
	altered[0] ^= 1
	status, out, _ := f.call("ci", "PUT", path, altered)
	var e struct{ Code, Hint string }
	_ = json.Unmarshal(out, &e)
	if status != http.StatusConflict || e.Code != "conflict" || e.Hint == "" {
		t.Fatalf("PUT altered bytes: %d %s", status, out)
	}
	if status, out, _ := f.call("ci", "PUT", path, content); status != http.StatusNoContent {
		t.Fatalf("sent again: %d %s", status, out)
	}
}
