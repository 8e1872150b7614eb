package lockfile

import "slices"

// graph is the resolved dependency graph shared by all formats: nodes are
// package instances, edges point to the instances a package's dependencies
// resolve to, and roots are the project's direct dependencies.
type graph struct {
	nodes map[string]*node
	order []string
	prod  []string // root node ids needed in production
	dev   []string // root node ids needed only in development
	// scoped lists only the packages the roots reach (a workspace
	// package's, of its root's lockfile), not every package locked
	scoped bool
}

type node struct {
	id   string
	pkg  Package
	deps []string
	hide bool // a workspace or the project itself: traversed, not reported
	// label names a hidden workspace package in the dependency paths
	// through it ("@acme/ui@0.1.0"), when the lockfile is read for
	// another, and a local package (localLabel)
	label string
}

func newGraph() *graph { return &graph{nodes: map[string]*node{}} }

func (g *graph) add(id string, p Package) *node {
	if n, ok := g.nodes[id]; ok {
		return n
	}
	n := &node{id: id, pkg: p}
	g.nodes[id] = n
	g.order = append(g.order, id)
	return n
}

// packages lists the packages of the graph, each with its shortest path
// (shortestPaths): the production roots are walked first, then the
// development roots, so a package is marked dev only when no production
// root reaches it.
func (g *graph) packages() []Package {
	seen := map[string][]string{}
	g.shortestPaths(g.prod, false, seen)
	g.shortestPaths(g.dev, true, seen)
	g.markDirect()
	var out []Package
	for _, id := range g.order {
		n := g.nodes[id]
		path, reached := seen[id]
		if n.hide || g.scoped && !reached {
			continue
		}
		p := n.pkg
		p.Deps = g.depIDs(n)
		if p.Path = path; !reached {
			p.Path = []string{p.ID()}
		}
		out = append(out, p)
	}
	return out
}

// markDirect marks the packages the project itself lists: the roots,
// and the dependencies of a hidden root (the project, a workspace
// package) and of the hidden nodes without a label (a link, a workspace
// package at the root, a folder of the project's own) it leads to,
// whichever path reached them. A labelled one is a workspace package
// the package checked depends on: its dependencies are not the
// package's own.
func (g *graph) markDirect() {
	done := map[string]bool{}
	var stack []string
	for _, r := range slices.Concat(g.prod, g.dev) {
		if n, ok := g.nodes[r]; ok && !done[r] {
			n.pkg.Direct, done[r] = true, true
			if n.hide {
				stack = append(stack, r)
			}
		}
	}
	for len(stack) > 0 {
		cur := g.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		for _, d := range cur.deps {
			n, ok := g.nodes[d]
			if !ok {
				continue
			}
			n.pkg.Direct = true
			if n.hide && n.label == "" && !done[d] {
				done[d] = true
				stack = append(stack, d)
			}
		}
	}
}

// depIDs is the name@version of every package n's dependencies resolve
// to; a workspace or a link to one among them stands for its own
// dependencies.
func (g *graph) depIDs(n *node) []string {
	seen := map[string]bool{n.id: true}
	var out []string
	var visit func(ids []string)
	visit = func(ids []string) {
		for _, d := range ids {
			t, ok := g.nodes[d]
			if !ok || seen[d] {
				continue
			}
			seen[d] = true
			if t.hide {
				visit(t.deps)
				continue
			}
			out = append(out, t.pkg.ID())
		}
	}
	visit(n.deps)
	slices.Sort(out)
	return slices.Compact(out)
}
