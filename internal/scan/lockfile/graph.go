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
// marked dev only when no production root reaches it. A step into a hidden
// node without a label (the project, a workspace package at the root, a
// link, a folder of the project's own) does not show in a path, so it
// does not make one longer either.
func (g *graph) packages() []Package {
	seen := map[string]bool{}
	parent := map[string]string{}
	walk := func(roots []string, dev bool) {
		dist := map[string]int{}
		var queue []string
		var hidden []string // reached by a hidden step: as near as the node that led there, so first
		for _, r := range roots {
			if _, ok := g.nodes[r]; ok && !seen[r] {
				if _, queued := dist[r]; !queued {
					dist[r], parent[r] = 0, ""
					queue = append(queue, r)
				}
			}
		}
		for len(queue)+len(hidden) > 0 {
			var id string
			if n := len(hidden); n > 0 {
				id, hidden = hidden[n-1], hidden[:n-1]
			} else {
				id, queue = queue[0], queue[1:]
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			cur := g.nodes[id]
			cur.pkg.Dev = dev
			for _, d := range cur.deps {
				n, ok := g.nodes[d]
				if !ok || seen[d] {
					continue
				}
				step := 1
				if n.hide && n.label == "" {
					step = 0
				}
				if old, queued := dist[d]; queued && old <= dist[id]+step {
					continue
				}
				dist[d], parent[d] = dist[id]+step, id
				if step == 0 {
					hidden = append(hidden, d)
				} else {
					queue = append(queue, d)
				}
			}
		}
	}
	walk(g.prod, false)
	walk(g.dev, true)
	g.markDirect()
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
