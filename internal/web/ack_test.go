package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAcknowledgeThroughTheForm: the alerts page offers Acknowledge on a
// firing alert; the comment and who show after it; Unacknowledge takes
// it back; the overview names who is on it.
func TestAcknowledgeThroughTheForm(t *testing.T) {
	f, b, _, _, _ := seeded(t)
	_, page := b.get("/ui/alerts")
	m := regexp.MustCompile(`action="/ui/alerts/([^"]+)/ack"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no Acknowledge form on the alerts page:\n%s", page)
	}
	id, err := url.PathUnescape(m[1])
	if err != nil || !strings.HasSuffix(id, "@production.shop") {
		t.Fatalf("form action names %q", m[1])
	}
	resp, _ := b.post("/ui/alerts/"+m[1]+"/ack", url.Values{"comment": {"rolling back <b>now</b>"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge %s: %d", m[1], resp.StatusCode)
	}
	alerts, err := f.admin.Alerts(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.ID == id && (a.Ack == nil || a.Ack.By != "admin" || a.Ack.Comment != "rolling back <b>now</b>") {
			t.Fatalf("after the form: %+v", a.Ack)
		}
	}
	_, page = b.get("/ui/alerts")
	if !strings.Contains(page, "by <strong>admin</strong>") || !strings.Contains(page, "rolling back &lt;b&gt;now&lt;/b&gt;") ||
		!strings.Contains(page, `action="/ui/alerts/`+m[1]+`/unack"`) {
		t.Fatalf("the alerts page does not show the acknowledgement:\n%s", page)
	}
	if _, page = b.get("/"); !strings.Contains(page, "acknowledged</span> by admin") {
		t.Fatalf("the overview does not say who is on it:\n%s", page)
	}
	resp, _ = b.post("/ui/alerts/"+m[1]+"/unack", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unacknowledge: %d", resp.StatusCode)
	}
	if _, page = b.get("/ui/alerts"); strings.Contains(page, "by <strong>admin</strong>") {
		t.Fatal("still acknowledged after Unacknowledge")
	}
	resp, page = b.post("/ui/alerts/"+m[1]+"/unack", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "not acknowledged") {
		t.Fatalf("a second unacknowledge: %d\n%s", resp.StatusCode, page)
	}
}
