package waf

import (
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Inspection limits of owasp-core. The Core Rule Set costs about 10 µs of
// CPU per byte inspected (bench/waf/RESULTS.md), so they bound what one
// request can cost: about 0.1 s at the body limit.
const (
	// MaxBodyInspect is the largest request body inspected, in bytes
	// (AWS WAF's default for CloudFront). A larger body is not inspected;
	// the request line, arguments, headers and cookies still are. The body
	// is held in memory while it is inspected.
	MaxBodyInspect = 16 << 10
	// MaxTargetInspect and MaxHeaderInspect bound the request target and the
	// header bytes (names and values) inspected: nginx's default buffers, 8
	// KiB for the request line and 32 KiB for the headers. A request past
	// either is not inspected and is reported as RuleOversize.
	MaxTargetInspect = 8 << 10
	MaxHeaderInspect = 32 << 10
)

// engine is the compiled Core Rule Set.
type engine struct {
	waf coraza.WAF
}

// engines holds one compiled engine per distinct directive text, that is
// per distinct set of exclusions: the first compile of the CRS takes
// 60-160 ms and keeps 12 MiB of heap, each further set 13-18 ms and 1.7
// MiB (Coraza shares compiled regular expressions; bench/waf/RESULTS.md),
// so every Firewall with the same exclusions shares one. At most
// maxEngines are kept; past that the oldest is dropped from the cache
// (Firewalls using it keep it alive) and compiled again when asked for.
var engines = struct {
	sync.Mutex
	m     map[string]*engineOnce
	order []string // keys, oldest first
}{m: map[string]*engineOnce{}}

// maxEngines bounds the cache: 16 exclusion sets keep about 40 MiB.
const maxEngines = 16

type engineOnce struct {
	once sync.Once
	e    *engine
	err  error
}

// sharedEngine returns the engine for the CRS setup of this package
// without the rules excluded (sorted, distinct CRS ids).
func sharedEngine(exclude []int) (*engine, error) {
	d, err := directives(exclude)
	if err != nil {
		return nil, err
	}
	engines.Lock()
	o := engines.m[d]
	if o == nil {
		if len(engines.order) >= maxEngines {
			delete(engines.m, engines.order[0])
			engines.order = engines.order[1:]
		}
		o = &engineOnce{}
		engines.m[d] = o
		engines.order = append(engines.order, d)
	}
	engines.Unlock()
	o.once.Do(func() { o.e, o.err = compile(d) })
	return o.e, o.err
}

func compile(directives string) (*engine, error) {
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(directives))
	if err != nil {
		return nil, usererr.Wrap(usererr.Internal, err, "the OWASP Core Rule Set does not compile: "+err.Error())
	}
	return &engine{waf: w}, nil
}

// directives is the Coraza configuration: Coraza's and the CRS's
// recommended setups, then the CRS's request rules without the scanner
// detection group (913, the scanners rule set), then one SecRuleRemoveById
// per excluded rule. No response rules: the edge serves files and never
// lets a WAF buffer them.
func directives(exclude []int) (string, error) {
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/REQUEST-*.conf")
	if err != nil || len(files) == 0 {
		return "", usererr.New(usererr.Internal, "the embedded OWASP Core Rule Set has no request rules")
	}
	var b strings.Builder
	b.WriteString("Include @coraza.conf-recommended\n")
	b.WriteString(engineSettings)
	b.WriteString("Include @crs-setup.conf.example\n")
	for _, f := range files {
		if !strings.HasPrefix(path.Base(f), "REQUEST-913-") {
			b.WriteString("Include " + f + "\n")
		}
	}
	for _, id := range exclude {
		b.WriteString("SecRuleRemoveById " + strconv.Itoa(id) + "\n")
	}
	return b.String(), nil
}

// engineSettings override @coraza.conf-recommended: decide on every
// request (the Firewall's mode decides whether to block), inspect request
// bodies up to MaxBodyInspect in memory, never touch responses, no audit log.
var engineSettings = "SecRuleEngine On\n" +
	"SecRequestBodyAccess On\n" +
	"SecRequestBodyLimit " + strconv.Itoa(MaxBodyInspect) + "\n" +
	"SecRequestBodyInMemoryLimit " + strconv.Itoa(MaxBodyInspect) + "\n" +
	"SecRequestBodyLimitAction ProcessPartial\n" +
	"SecResponseBodyAccess Off\n" +
	"SecAuditEngine Off\n"
