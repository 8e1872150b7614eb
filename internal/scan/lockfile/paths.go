package lockfile

import (
	"container/heap"
	"slices"
)

// shortestPaths finds, for each node the roots reach and seen does not
// hold yet, its dependency path, records it in seen and marks the node
// dev. A path is what it shows: the name@version of each package from a
// root down to the node, and the label of each labelled hidden node (a
// workspace package the one checked depends on, a local package); a
// hidden node without a label (the project, a workspace package at the
// root, a folder of the project's own) does not show in it, so it does
// not make one longer either. Of the shortest paths, the one whose steps
// compare lexically smallest, step by step, wins: two paths of the same
// length tie often (two direct dependencies that both need a package),
// and the one a package gets decides, in the SBOM, what the application
// depends on directly, so it must not follow the walk's order. A path
// never goes through a node seen already held: what a production root
// reaches is not a development root's.
func (g *graph) shortestPaths(roots []string, dev bool, seen map[string][]string) {
	best := map[string][]string{}
	q := &pathQueue{}
	offer := func(id string, path []string) {
		if old, ok := best[id]; !ok || comparePaths(path, old) < 0 {
			best[id] = path
			heap.Push(q, pathItem{id, path})
		}
	}
	for _, r := range roots {
		if n, ok := g.nodes[r]; ok && !reached(seen, r) {
			offer(r, g.step(nil, n))
		}
	}
	for q.Len() > 0 {
		it := heap.Pop(q).(pathItem)
		if reached(seen, it.id) || comparePaths(it.path, best[it.id]) != 0 {
			continue // a better path was found after this one was queued
		}
		seen[it.id] = it.path
		cur := g.nodes[it.id]
		cur.pkg.Dev = dev
		for _, d := range cur.deps {
			if n, ok := g.nodes[d]; ok && !reached(seen, d) {
				offer(d, g.step(it.path, n))
			}
		}
	}
}

func reached(seen map[string][]string, id string) bool {
	_, ok := seen[id]
	return ok
}

// step is path extended by the node n, as paths show it: its
// name@version, its label when it is hidden, nothing when it is hidden
// without a label.
func (g *graph) step(path []string, n *node) []string {
	switch {
	case !n.hide:
		return append(slices.Clip(path), n.pkg.ID())
	case n.label != "":
		return append(slices.Clip(path), n.label)
	}
	return slices.Clip(path)
}

// comparePaths orders paths by length, then lexically step by step.
func comparePaths(a, b []string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return slices.Compare(a, b)
}

// pathItem is a node and a path to it, waiting in a pathQueue.
type pathItem struct {
	id   string
	path []string
}

// pathQueue is a heap of the nodes reached, the one with the smallest
// path (comparePaths) first.
type pathQueue []pathItem

func (q pathQueue) Len() int           { return len(q) }
func (q pathQueue) Less(i, j int) bool { return comparePaths(q[i].path, q[j].path) < 0 }
func (q pathQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *pathQueue) Push(x any)        { *q = append(*q, x.(pathItem)) }
func (q *pathQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
