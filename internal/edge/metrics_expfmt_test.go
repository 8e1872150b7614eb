package edge

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsParseAsPrometheusText checks /metrics with Prometheus's own
// text-format parser (expfmt, what a Prometheus server runs on a scrape):
// every family parses, has its HELP and the type it is documented with,
// and each histogram's buckets are cumulative up to its count.
func TestMetricsParseAsPrometheusText(t *testing.T) {
	l, _ := openTestLog(t, AccessLogOptions{})
	e, _ := policyEdge(t, &Policy{Firewall: pathFirewall{}}, Options{AccessLog: l, RateLimit: 0.001, RateBurst: 5,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, p := range []string{"/", "/missing", "/attack?q=1", "/?probe=1", "/%2e%2e/x", "/", "/"} { // the last two are rate limited
		e.get(t, p, nil)
	}
	m := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost})
	if ct := m.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(m.body))
	if err != nil {
		t.Fatalf("Prometheus's parser rejects /metrics: %v\n%s", err, m.body)
	}
	want := map[string]dto.MetricType{
		"phoenix_edge_requests_total":               dto.MetricType_COUNTER,
		"phoenix_edge_failed_requests_total":        dto.MetricType_COUNTER,
		"phoenix_edge_rate_limited_total":           dto.MetricType_COUNTER,
		"phoenix_edge_ip_denied_total":              dto.MetricType_COUNTER,
		"phoenix_edge_probe_requests_total":         dto.MetricType_COUNTER,
		"phoenix_edge_response_bytes_total":         dto.MetricType_COUNTER,
		"phoenix_edge_request_duration_seconds":     dto.MetricType_HISTOGRAM,
		"phoenix_edge_connections_open":             dto.MetricType_GAUGE,
		"phoenix_edge_connections_accepted_total":   dto.MetricType_COUNTER,
		"phoenix_edge_connections_handed_off_total": dto.MetricType_COUNTER,
		"phoenix_edge_answers_queued_total":         dto.MetricType_COUNTER,
		"phoenix_edge_answers_piped_total":          dto.MetricType_COUNTER,
		"phoenix_edge_file_pipe_bytes":              dto.MetricType_GAUGE,
		"phoenix_edge_connections_refused_total":    dto.MetricType_COUNTER,
		"phoenix_edge_waf_matches_total":            dto.MetricType_COUNTER,
		"phoenix_edge_access_log_dropped_total":     dto.MetricType_COUNTER,
	}
	for name, typ := range want {
		f := fams[name]
		if f == nil {
			t.Errorf("no family %s", name)
			continue
		}
		if f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("%s: type %v help %q, want %v with a help text", name, f.GetType(), f.GetHelp(), typ)
		}
	}
	for _, f := range fams {
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP", f.GetName())
		}
		for _, metric := range f.GetMetric() {
			if h := metric.GetHistogram(); h != nil {
				checkHistogram(t, f.GetName(), h)
			}
		}
	}
	limited := fams["phoenix_edge_rate_limited_total"].GetMetric()
	if len(limited) == 0 || limited[0].GetCounter().GetValue() != 2 {
		t.Errorf("rate limited: %v, want 2", limited)
	}
}

// checkHistogram: bucket counts never decrease and end at the sample count.
func checkHistogram(t *testing.T, name string, h *dto.Histogram) {
	t.Helper()
	var last uint64
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < last {
			t.Errorf("%s: bucket le=%g holds %d, less than the one before (%d)", name, b.GetUpperBound(), b.GetCumulativeCount(), last)
		}
		last = b.GetCumulativeCount()
	}
	if last > h.GetSampleCount() {
		t.Errorf("%s: buckets reach %d, above the count %d", name, last, h.GetSampleCount())
	}
}
