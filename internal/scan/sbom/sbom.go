// Package sbom builds a CycloneDX (1.6, JSON) software bill of materials,
// written as such or as SPDX 2.3 JSON (WriteSPDX),
// from a project's lockfiles: every resolved package with its purl, scope
// (dev packages are "excluded"), integrity hash, licence and the
// dependency edges known from the lockfile.
package sbom

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"

	"github.com/phoenixvc/phoenix/internal/scan/license"
	"github.com/phoenixvc/phoenix/internal/scan/lockfile"
	"github.com/phoenixvc/phoenix/internal/scan/report"
)

// Spec is the CycloneDX version written.
const Spec = cdx.SpecVersion1_6

// Options describe the artifact the SBOM is attached to.
type Options struct {
	Name       string    // the application (defaults to package.json name or the folder name)
	Version    string    // the artifact / release version
	Serial     string    // "urn:uuid:..."; empty leaves serialNumber out
	Now        time.Time // metadata timestamp; defaults to time.Now()
	GoModCache string    // for Go licences; see license.Options
}

// Generate reads the lockfiles in dir. Lockfile problems are returned
// beside the BOM (which holds what could be read). For a package of a
// workspace, whose lockfile is its root's, the BOM's component is the
// package, its components only what the package needs, and a metadata
// property phoenix:lockfile names the lockfile read (Notes). A licence
// file or node_modules package.json of the project that leads outside it
// through a symbolic link is not read, and a metadata property
// phoenix:warning names it (Notes), as the licence check warns of it: its
// package's component has the lockfile's licence, if any, else none.
func Generate(ctx context.Context, dir string, opts Options) (*cdx.BOM, []report.Problem, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	locks, err := lockfile.Load(ctx, dir)
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	problems := report.LoadProblems(dir, err)
	if opts.Name == "" {
		opts.Name = filepath.Base(dir)
		if m, _ := lockfile.ReadManifest(filepath.Join(dir, "package.json")); m != nil && m.Name != "" {
			opts.Name = m.Name
		}
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = opts.Serial
	root := "app:" + opts.Name
	bom.Metadata = &cdx.Metadata{
		Timestamp: opts.Now.UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "phoenix"}}},
		Component: &cdx.Component{BOMRef: root, Type: cdx.ComponentTypeApplication, Name: opts.Name, Version: opts.Version},
	}
	b := &builder{refs: map[string]string{}, deps: map[string]map[string]bool{root: {}}, root: root}
	var props []cdx.Property
	for _, l := range locks {
		rel := l.RelPath(dir)
		if s := l.Source(); s != "" {
			props = append(props, cdx.Property{Name: LockfileProperty, Value: s})
		}
		for _, p := range l.Problems {
			problems = append(problems, report.Problem{File: rel, Entry: p.Entry, Line: p.Line, Msg: p.Msg})
		}
		var base string
		base, b.app = l.InstallBase(dir)
		b.finder = license.NewFinder(base, opts.GoModCache)
		for _, p := range l.Packages {
			b.add(p)
		}
		b.finder.Close()
	}
	for _, w := range b.skipped {
		props = append(props, cdx.Property{Name: WarningProperty, Value: w})
	}
	if len(props) > 0 {
		bom.Metadata.Properties = &props
	}
	bom.Components = &b.comps
	bom.Dependencies = b.dependencies()
	return bom, problems, nil
}

type builder struct {
	comps []cdx.Component
	refs  map[string]string          // name@version -> bom-ref
	deps  map[string]map[string]bool // bom-ref -> the name@version it depends on
	paths [][]string                 // the dependency paths of a workspace package's packages
	root  string
	app   string // the workspace package's folder below where the lockfile's packages are installed, "" for that folder's own lockfile
	// finder finds the licences of the lockfile's packages
	finder *license.Finder
	// skipped are the project's files not read for a licence, leading
	// outside it (license.Info.Skipped), each named once
	skipped []string
}

// LockfileProperty is the metadata property that names, for a package of
// a workspace, the root's lockfile read for it.
const LockfileProperty = "phoenix:lockfile"

// WarningProperty is the metadata property that names a file of the
// project not read for a package's licence, as it leads outside the
// project through a symbolic link: the package may lack its licence.
const WarningProperty = "phoenix:warning"

// Notes are the LockfileProperty values of bom: what to tell whoever
// asked for it about where its packages come from.
func Notes(bom *cdx.BOM) []string {
	return properties(bom, LockfileProperty)
}

// Warnings are the WarningProperty values of bom: the project's files not
// read for a licence, said as the licence check's warnings are.
func Warnings(bom *cdx.BOM) []string {
	return properties(bom, WarningProperty)
}

// properties are the values of bom's metadata properties of the names
// given, those of the first name first.
func properties(bom *cdx.BOM, names ...string) []string {
	if bom.Metadata == nil || bom.Metadata.Properties == nil {
		return nil
	}
	var out []string
	for _, name := range names {
		for _, p := range *bom.Metadata.Properties {
			if p.Name == name {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

func (b *builder) add(p lockfile.Package) {
	ref := purl(p)
	if _, dup := b.refs[p.ID()]; !dup {
		b.refs[p.ID()] = ref
		b.deps[ref] = map[string]bool{}
		c := cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: ref, Scope: cdx.ScopeRequired}
		if p.Dev {
			c.Scope = cdx.ScopeExcluded
		} else if p.Optional {
			c.Scope = cdx.ScopeOptional
		}
		if h := hash(p.Integrity); h != nil {
			c.Hashes = &[]cdx.Hash{*h}
		}
		info := b.finder.Find(b.app, p)
		if info.Expr != "" {
			c.Licenses = licenseChoice(info.Expr)
		}
		b.skip(info.Skipped)
		b.comps = append(b.comps, c)
	}
	switch {
	case len(p.Path) <= 1:
		b.deps[b.root][p.ID()] = true
	case b.app != "":
		b.paths = append(b.paths, p.Path)
	}
	// every edge of the lockfile, not only the one of the shortest path:
	// a package several others need is in the dependsOn of each
	for _, d := range p.Deps {
		b.deps[ref][d] = true
	}
}

// skip notes the files skipped, each once: packages of one name share
// a node_modules folder.
func (b *builder) skip(skipped []string) {
	for _, w := range skipped {
		if !slices.Contains(b.skipped, w) {
			b.skipped = append(b.skipped, w)
		}
	}
}

// dependencies lists each component's dependsOn, resolved to bom-refs
// once every component is known.
func (b *builder) dependencies() *[]cdx.Dependency {
	// the application depends on the first package of each path: a
	// workspace package's path may start with another workspace package
	// ("@acme/ui@0.1.0 > debug@2.6.9"), which is part of it, no component
	for _, path := range b.paths {
		for _, id := range path {
			if _, ok := b.refs[id]; ok {
				b.deps[b.root][id] = true
				break
			}
		}
	}
	out := make([]cdx.Dependency, 0, len(b.deps))
	for _, ref := range append([]string{b.root}, refsOf(b.comps)...) {
		var on []string
		for id := range b.deps[ref] {
			if r, ok := b.refs[id]; ok && r != ref {
				on = append(on, r)
			}
		}
		slices.Sort(on)
		on = slices.Compact(on)
		dep := cdx.Dependency{Ref: ref}
		if len(on) > 0 {
			dep.Dependencies = &on
		}
		out = append(out, dep)
	}
	return &out
}

func refsOf(cs []cdx.Component) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.BOMRef
	}
	return out
}

// purl is pkg:npm/%40scope/name@1.0.0 or pkg:golang/example.com/m@v1.0.0.
func purl(p lockfile.Package) string {
	if p.Ecosystem == lockfile.Go {
		ns, name := "", p.Name
		if i := strings.LastIndex(p.Name, "/"); i > 0 {
			ns, name = p.Name[:i], p.Name[i+1:]
		}
		return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, p.Version, nil, "").ToString()
	}
	ns, name := "", p.Name
	if strings.HasPrefix(p.Name, "@") {
		if i := strings.Index(p.Name, "/"); i > 0 {
			ns, name = p.Name[:i], p.Name[i+1:]
		}
	}
	return packageurl.NewPackageURL(packageurl.TypeNPM, ns, name, p.Version, nil, "").ToString()
}

// hash turns an SRI string (sha512-BASE64) into a CycloneDX hash.
func hash(sri string) *cdx.Hash {
	alg, b64, ok := strings.Cut(sri, "-")
	if !ok {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Fields(b64 + " ")[0])
	if err != nil {
		return nil
	}
	algs := map[string]cdx.HashAlgorithm{"sha512": cdx.HashAlgoSHA512, "sha384": cdx.HashAlgoSHA384, "sha256": cdx.HashAlgoSHA256, "sha1": cdx.HashAlgoSHA1}
	a, ok := algs[alg]
	if !ok {
		return nil
	}
	return &cdx.Hash{Algorithm: a, Value: hex.EncodeToString(raw)}
}

// licenseChoice writes a single SPDX id as an id, anything else that
// parses as an expression, and free text as a name.
func licenseChoice(expr string) *cdx.Licenses {
	terms, err := license.Parse(expr)
	switch {
	case err == nil && len(terms) == 1 && len(terms[0]) == 1 && license.Known(terms[0][0]) && !strings.Contains(terms[0][0], " WITH "):
		return &cdx.Licenses{{License: &cdx.License{ID: terms[0][0]}}}
	case err == nil && validExpr(expr):
		return &cdx.Licenses{{Expression: expr}}
	}
	return &cdx.Licenses{{License: &cdx.License{Name: expr}}}
}

func validExpr(expr string) bool {
	terms, err := license.Parse(expr)
	if err != nil {
		return false
	}
	for _, t := range terms {
		for _, id := range t {
			if !license.Known(id) {
				return false
			}
		}
	}
	return true
}

// Write encodes the BOM as CycloneDX 1.6 JSON.
func Write(w io.Writer, bom *cdx.BOM) error {
	if err := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, Spec); err != nil {
		return fmt.Errorf("writing SBOM: %w", err)
	}
	return nil
}
