package prefixset

import "slices"

// The radix tree reproduces the node structure of bgpq4's sx_radix_tree (a path-compressed
// binary trie with glue nodes), because -R, -r and -A are defined on that structure. Nodes
// live in one slice and link by index; index 0 is "none".

type node struct {
	k                   key
	glue, agg           bool
	aLow, aHi           uint8
	left, right, parent int32
	son                 int32
}

type tree struct {
	nodes []node
	root  int32
}

func newTree(capHint int) *tree {
	t := &tree{nodes: make([]node, 1, capHint*2+2)}
	return t
}

func (t *tree) newNode(k key) int32 {
	t.nodes = append(t.nodes, node{k: k})
	return int32(len(t.nodes) - 1)
}

// insert adds k (bgpq4's sx_radix_tree_insert). Re-inserting a glue prefix makes it real.
func (t *tree) insert(k key) int32 {
	if t.root == 0 {
		t.root = t.newNode(k)
		return t.root
	}
	return t.insertFrom(t.root, k)
}

// insertFrom inserts k below start, which must cover k (or be the root).
func (t *tree) insertFrom(start int32, k key) int32 {
	cur := start
	parent := t.nodes[start].parent
	for {
		ck := t.nodes[cur].k
		eb := commonLen(k, ck)
		switch {
		case eb < int(k.Bits) && eb < int(ck.Bits):
			gi := t.newNode(key{Hi: k.Hi, Lo: k.Lo, Bits: uint8(eb), V6: k.V6}.Masked())
			ni := t.newNode(k)
			gn := &t.nodes[gi]
			gn.glue = true
			if bitAt(k, eb) {
				gn.left, gn.right = cur, ni
			} else {
				gn.left, gn.right = ni, cur
			}
			gn.parent = parent
			t.nodes[cur].parent = gi
			t.nodes[ni].parent = gi
			t.relink(parent, cur, gi)
			return ni
		case eb == int(k.Bits) && eb < int(ck.Bits):
			ni := t.newNode(k)
			nn := &t.nodes[ni]
			if bitAt(ck, eb) {
				nn.right = cur
			} else {
				nn.left = cur
			}
			nn.parent = parent
			t.nodes[cur].parent = ni
			t.relink(parent, cur, ni)
			return ni
		case eb == int(ck.Bits) && eb < int(k.Bits):
			right := bitAt(k, eb)
			next := t.nodes[cur].left
			if right {
				next = t.nodes[cur].right
			}
			if next != 0 {
				parent, cur = cur, next
				continue
			}
			ni := t.newNode(k)
			if right {
				t.nodes[cur].right = ni
			} else {
				t.nodes[cur].left = ni
			}
			t.nodes[ni].parent = cur
			return ni
		default: // equal
			t.nodes[cur].glue = false
			return cur
		}
	}
}

// buildSorted inserts keys sorted by (address, length). The trie shape does not depend
// on insertion order; sorted input lets each insertion start from the deepest node of
// the path to the previous one that covers the new key, instead of from the root.
func (t *tree) buildSorted(keys []key) {
	var path []int32 // root .. last inserted node
	for _, k := range keys {
		for len(path) > 0 {
			top := t.nodes[path[len(path)-1]].k
			if int(top.Bits) <= int(k.Bits) && commonLen(top, k) == int(top.Bits) {
				break
			}
			path = path[:len(path)-1]
		}
		start := t.root
		if len(path) > 0 {
			start = path[len(path)-1]
		}
		var ni int32
		if start == 0 {
			ni = t.insert(k)
		} else {
			ni = t.insertFrom(start, k)
		}
		// rebuild the path: ancestors of ni below start, then ni
		base := len(path)
		for j := ni; j != 0 && j != start; j = t.nodes[j].parent {
			path = append(path, j)
		}
		slices.Reverse(path[base:])
		if len(path) == 0 || base == 0 && start == 0 {
			path = path[:0]
			for j := ni; j != 0; j = t.nodes[j].parent {
				path = append(path, j)
			}
			slices.Reverse(path)
		}
	}
}

// relink replaces parent's link to old (or the root) with nw.
func (t *tree) relink(parent, old, nw int32) {
	switch {
	case parent == 0:
		t.root = nw
	case t.nodes[parent].left == old:
		t.nodes[parent].left = nw
	default:
		t.nodes[parent].right = nw
	}
}

// walk visits every printable entry in bgpq4 order: pre-order (node, left, right), and
// after a node its chain of sons; glue nodes and glue sons are skipped.
func (t *tree) walk(f func(int32)) {
	if t.root == 0 {
		return
	}
	stack := make([]int32, 0, 64)
	stack = append(stack, t.root)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &t.nodes[i]
		for s := i; s != 0; s = t.nodes[s].son {
			if !t.nodes[s].glue {
				f(s)
			}
		}
		if n.right != 0 {
			stack = append(stack, n.right)
		}
		if n.left != 0 {
			stack = append(stack, n.left)
		}
	}
}

// foreach visits every node of the subtree at i in pre-order (sons are not visited).
func (t *tree) foreach(i int32, f func(*node)) {
	stack := []int32{i}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &t.nodes[j]
		f(n)
		if n.right != 0 {
			stack = append(stack, n.right)
		}
		if n.left != 0 {
			stack = append(stack, n.left)
		}
	}
}

func (t *tree) refine(i int32, r uint8) {
	n := &t.nodes[i]
	l, rt := n.left, n.right
	switch {
	case !n.glue && n.k.Bits < r:
		n.agg = true
		n.aLow = n.k.Bits
		n.aHi = r
		for _, c := range [2]int32{l, rt} {
			if c != 0 {
				t.foreach(c, func(d *node) {
					if d.k.Bits <= r {
						d.glue = true
					}
				})
				t.refine(c, r)
			}
		}
	case !n.glue && n.k.Bits == r:
		if l != 0 {
			t.refine(l, r)
		}
		if rt != 0 {
			t.refine(rt, r)
		}
	case n.glue:
		if rt != 0 {
			t.refine(rt, r)
		}
		if l != 0 {
			t.refine(l, r)
		}
	}
}

func (t *tree) refineLow(i int32, low, afMax uint8) {
	n := &t.nodes[i]
	l, rt := n.left, n.right
	switch {
	case !n.glue && n.k.Bits <= low:
		if !n.agg {
			n.agg = true
			n.aLow = low
			n.aHi = afMax
		} else {
			n.aLow = low
		}
		for _, c := range [2]int32{l, rt} {
			if c != 0 {
				t.foreach(c, func(d *node) {
					if d.k.Bits <= low {
						d.glue = true
					}
				})
				t.refineLow(c, low, afMax)
			}
		}
	case n.glue:
		if rt != 0 {
			t.refineLow(rt, low, afMax)
		}
		if l != 0 {
			t.refineLow(l, low, afMax)
		}
	}
}

// newSon creates an aggregate son [lo,hi] for node i.
func (t *tree) newSon(i int32, lo, hi uint8) int32 {
	s := t.newNode(t.nodes[i].k)
	sn := &t.nodes[s]
	sn.agg = true
	sn.aLow, sn.aHi = lo, hi
	return s
}

// aggregate is bgpq4's sx_radix_node_aggregate: children first, then the merge rules.
// With trace set, it writes bgpq4's -AA debug lines for every node.
func (t *tree) aggregate(i int32, trace func(i int32)) {
	if l := t.nodes[i].left; l != 0 {
		t.aggregate(l, trace)
	}
	if r := t.nodes[i].right; r != 0 {
		t.aggregate(r, trace)
	}
	if trace != nil {
		trace(i)
	}
	ni := &t.nodes[i]
	if ni.left == 0 || ni.right == 0 {
		return
	}
	li, ri := ni.left, ni.right
	nl, nr := &t.nodes[li], &t.nodes[ri]
	plen := ni.k.Bits
	halves := nr.k.Bits == plen+1 && nl.k.Bits == plen+1
	sonOf := func(j int32) *node {
		if s := t.nodes[j].son; s != 0 {
			return &t.nodes[s]
		}
		return nil
	}
	switch {
	case !nr.agg && !nl.agg && !nr.glue && !nl.glue && nr.k.Bits == nl.k.Bits:
		if nr.k.Bits == plen+1 {
			ni.agg = true
			nr.glue = true
			nl.glue = true
			ni.aHi = nr.k.Bits
			if ni.glue {
				ni.glue = false
				ni.aLow = nr.k.Bits
			} else {
				ni.aLow = plen
			}
		}
		rs, ls := sonOf(ri), sonOf(li)
		if rs != nil && ls != nil && rs.agg && ls.agg && rs.aHi == ls.aHi && rs.aLow == ls.aLow && halves {
			lo, hi := rs.aLow, rs.aHi
			rs.glue = true
			ls.glue = true
			s := t.newSon(i, lo, hi)
			t.nodes[i].son = s
		}
	case nr.agg && nl.agg && nr.aHi == nl.aHi && nr.aLow == nl.aLow:
		if !halves {
			return
		}
		switch {
		case ni.glue:
			nr.glue = true
			nl.glue = true
			ni.agg = true
			ni.glue = false
			ni.aHi = nr.aHi
			ni.aLow = nr.aLow
		case nr.k.Bits == nr.aLow:
			nr.glue = true
			nl.glue = true
			ni.agg = true
			ni.aHi = nr.aHi
			ni.aLow = plen
		default:
			lo, hi := nr.aLow, nr.aHi
			nr.glue = true
			nl.glue = true
			rs, ls := nr.son, nl.son
			s := t.newSon(i, lo, hi)
			t.nodes[i].son = s
			if rs != 0 && ls != 0 {
				a, b := &t.nodes[rs], &t.nodes[ls]
				if a.aHi == b.aHi && a.aLow == b.aLow {
					lo2, hi2 := a.aLow, a.aHi
					a.glue = true
					b.glue = true
					ss := t.newSon(i, lo2, hi2)
					t.nodes[s].son = ss
				}
			}
		}
	case nl.son != 0 && nr.agg && t.nodes[nl.son].agg && nr.aHi == t.nodes[nl.son].aHi && nr.aLow == t.nodes[nl.son].aLow:
		if halves {
			t.mergeAggWithSon(i, ri, nl.son)
		}
	case nr.son != 0 && nl.agg && t.nodes[nr.son].agg && nl.aHi == t.nodes[nr.son].aHi && nl.aLow == t.nodes[nr.son].aLow:
		if halves {
			t.mergeAggWithSon(i, li, nr.son)
		}
	}
}

// mergeAggWithSon is case (c) of bgpq4's aggregation, for either side: child agg is an
// aggregate and son, the other child's son, carries the same range. A glue node i
// becomes that aggregate; a real node i keeps its exact entry and gains a son with the
// range. Indices, not pointers: newSon may grow t.nodes.
func (t *tree) mergeAggWithSon(i, agg, son int32) {
	ni, na := &t.nodes[i], &t.nodes[agg]
	lo, hi := na.aLow, na.aHi
	na.glue = true
	t.nodes[son].glue = true
	if ni.glue {
		ni.agg = true
		ni.glue = false
		ni.aHi, ni.aLow = hi, lo
		return
	}
	s := t.newSon(i, lo, hi)
	t.nodes[i].son = s
}
