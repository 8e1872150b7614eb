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
	// through it ("@acme/ui@0.1.0"), when the lockfile is read for another
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

// packages walks the graph breadth first from the production roots, then
// from the development roots, so every package gets its shortest path and is
// marked dev only when no production root reaches it.
func (g *graph) packages() []Package {
	seen := map[string]bool{}
	parent := map[string]string{}
	walk := func(roots []string, dev bool) {
		var queue []string
		for _, r := range roots {
			if _, ok := g.nodes[r]; ok && !seen[r] {
				seen[r] = true
				parent[r] = ""
				g.nodes[r].pkg.Direct = true
				g.nodes[r].pkg.Dev = dev
				queue = append(queue, r)
			}
		}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			cur := g.nodes[id]
			for _, d := range cur.deps {
				if _, ok := g.nodes[d]; !ok || seen[d] {
					continue
				}
				if cur.hide && parent[id] == "" {
					g.nodes[d].pkg.Direct = true // required by the project itself
				}
				seen[d] = true
				parent[d] = id
				g.nodes[d].pkg.Dev = dev
				queue = append(queue, d)
			}
		}
	}
	walk(g.prod, false)
	walk(g.dev, true)
	var out []Package
	for _, id := range g.order {
		n := g.nodes[id]
		if n.hide || g.scoped && !seen[id] {
			continue
		}
		p := n.pkg
		p.Deps = g.depIDs(n)
		if seen[id] {
			p.Path = g.path(id, parent)
		} else {
			p.Path = []string{p.ID()}
		}
		out = append(out, p)
	}
	return out
}

func (g *graph) path(id string, parent map[string]string) []string {
	var rev []string
	for cur := id; cur != "" && len(rev) < 1000; cur = parent[cur] {
		if n := g.nodes[cur]; !n.hide {
			rev = append(rev, n.pkg.ID())
		} else if n.label != "" {
			rev = append(rev, n.label)
		}
	}
	out := make([]string, len(rev))
	for i, s := range rev {
		out[len(rev)-1-i] = s
	}
	return out
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
