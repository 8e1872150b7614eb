package action

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The check/sbom step stamps the SBOM with the step's SOURCE_DATE_EPOCH
// when it has one (a reproducible SBOM, like the artifact's manifest), the
// clock otherwise; a value that is no time fails the step naming it.
func TestCheckSBOMHonoursSourceDateEpoch(t *testing.T) {
	clock := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	d := &Deps{Now: func() time.Time { return clock }}
	stamp := func(env []string) (string, error) {
		dir := t.TempDir()
		write(t, dir, map[string]string{"package.json": `{"name": "site", "version": "1.0.0"}`})
		sc, _, _ := newContext(t, dir, nil, env)
		if err := d.checkSBOM(context.Background(), sc); err != nil {
			return "", err
		}
		b, err := os.ReadFile(filepath.Join(sc.Files, "sbom.cdx.json"))
		var bom struct {
			Metadata struct{ Timestamp string } `json:"metadata"`
		}
		if err == nil {
			err = json.Unmarshal(b, &bom)
		}
		return bom.Metadata.Timestamp, err
	}
	if got, err := stamp([]string{"SOURCE_DATE_EPOCH=1764158400"}); err != nil || got != "2025-11-26T12:00:00Z" {
		t.Errorf("with SOURCE_DATE_EPOCH: %q, %v; want 2025-11-26T12:00:00Z", got, err)
	}
	if got, err := stamp(nil); err != nil || got != "2026-11-26T09:30:00Z" {
		t.Errorf("without: %q, %v; want the clock's 2026-11-26T09:30:00Z", got, err)
	}
	if _, err := stamp([]string{"SOURCE_DATE_EPOCH=soon"}); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("a bad SOURCE_DATE_EPOCH: %v", err)
	}
}
