package model

import (
	"strconv"
	"strings"
)

// The TOML library does not export where keys are, so lineindex.go scans the raw text of a
// fixture and records every table instance: the line of its header (or of the inline table's
// '{') and where its keys start. The tree mirrors the decoded data: the N-th [[nsg]] is
// root.kid("nsg", N), its M-th [[nsg.rule]] is that node's kid("rule", M), and so on; inline
// tables (including the elements of an inline array of inline tables) are nodes too.
//
// The lines of a table's keys are found on demand (keyLine), by scanning that one table again:
// they are needed only for messages, and not storing a million keys keeps loading lean.
//
// The scanner never fails: on text it does not understand it records less, and the loader falls
// back to the nearest known line.

type lnode struct {
	line  int       // line of the header, of the inline table's '{', or of the key that created it
	start int       // offset where the table's keys start; -1 when they belong to owner's text
	kind  uint8     // nodeHeader, nodeInline or nodeImplicit
	owner *lnode    // for tables made by dotted keys: the table whose scan finds their keys
	text  *string   // the whole text, for scanning on demand
	keys  []lkey    // filled by scanKeys
	kids  []lkids   // tables below this one, by name
	idx   *lnodeIdx // maps by name, once a table has many keys or kids
	done  bool      // keys scanned
}

const (
	nodeHeader   = iota // [table] or [[array.table]] (or the root)
	nodeInline          // { inline table }
	nodeImplicit        // created by a dotted key or a header's parent path
)

type lnodeIdx struct {
	keys map[string]int
	kids map[string]int
}

type lkey struct {
	name string
	line int
}

type lkids struct {
	name  string
	nodes []*lnode
}

// lnodeMapAt is the number of keys or kids from which a node indexes them in a map (so that a
// table of 100,000 keys is not scanned 100,000 times).
const lnodeMapAt = 16

// keyLine is the line of key in this table, or 0.
func (n *lnode) keyLine(key string) int {
	if n == nil {
		return 0
	}
	if !n.done {
		o := n
		if n.owner != nil {
			o = n.owner
		}
		o.scanKeys()
		n.done = true
	}
	if n.idx != nil && n.idx.keys != nil {
		if i, ok := n.idx.keys[key]; ok {
			return n.keys[i].line
		}
		return 0
	}
	for _, k := range n.keys {
		if k.name == key {
			return k.line
		}
	}
	return 0
}

// kid is the i-th table instance named key below n, or nil.
func (n *lnode) kid(key string, i int) *lnode {
	if n == nil {
		return nil
	}
	if k := n.kidsNamed(key); k != nil && i >= 0 && i < len(k.nodes) {
		return k.nodes[i]
	}
	return nil
}

// forget lets the tables named key below n go (their readers keep the nodes they need).
func (n *lnode) forget(key string) {
	if n == nil {
		return
	}
	if k := n.kidsNamed(key); k != nil {
		k.nodes = nil
	}
}

func (n *lnode) kidsNamed(key string) *lkids {
	if n.idx != nil && n.idx.kids != nil {
		if i, ok := n.idx.kids[key]; ok {
			return &n.kids[i]
		}
		return nil
	}
	for i := range n.kids {
		if n.kids[i].name == key {
			return &n.kids[i]
		}
	}
	return nil
}

func (n *lnode) addKey(name string, line int) {
	if n.idx != nil && n.idx.keys != nil {
		if _, ok := n.idx.keys[name]; ok {
			return
		}
	} else {
		for _, k := range n.keys {
			if k.name == name {
				return
			}
		}
	}
	n.keys = append(n.keys, lkey{name, line})
	switch {
	case n.idx != nil && n.idx.keys != nil:
		n.idx.keys[name] = len(n.keys) - 1
	case len(n.keys) == lnodeMapAt:
		if n.idx == nil {
			n.idx = &lnodeIdx{}
		}
		n.idx.keys = make(map[string]int, 2*lnodeMapAt)
		for i, k := range n.keys {
			n.idx.keys[k.name] = i
		}
	}
}

// appendKid adds a new table instance named key below n.
func (n *lnode) appendKid(key string, c *lnode) *lnode {
	c.text = n.text
	if k := n.kidsNamed(key); k != nil {
		k.nodes = append(k.nodes, c)
		return c
	}
	n.kids = append(n.kids, lkids{name: key, nodes: []*lnode{c}})
	switch {
	case n.idx != nil && n.idx.kids != nil:
		n.idx.kids[key] = len(n.kids) - 1
	case len(n.kids) == lnodeMapAt:
		if n.idx == nil {
			n.idx = &lnodeIdx{}
		}
		n.idx.kids = make(map[string]int, 2*lnodeMapAt)
		for i, k := range n.kids {
			n.idx.kids[k.name] = i
		}
	}
	return c
}

// lastKid is the last table instance named key below n; when there is none, it is created as
// an implicit table whose keys are found by scanning owner.
func (n *lnode) lastKid(key string, line int, owner *lnode) *lnode {
	if k := n.kidsNamed(key); k != nil && len(k.nodes) > 0 {
		return k.nodes[len(k.nodes)-1]
	}
	return n.appendKid(key, &lnode{line: line, start: -1, kind: nodeImplicit, owner: owner})
}

// lscan scans TOML text. In the first pass (build) it creates the nodes of every table; when
// scanning one table's keys on demand (record) it only records the keys of that table.
type lscan struct {
	s      string
	i      int
	line   int
	build  bool
	record bool
}

// indexLines builds the table tree of a TOML text.
func indexLines(text string) *lnode { return indexLinesFrom(text, 1) }

// indexLinesFrom indexes a text whose first line is line of its file.
func indexLinesFrom(text string, line int) *lnode {
	root := &lnode{text: &text}
	sc := &lscan{s: text, line: line, build: true}
	sc.tableBody(root, false)
	return root
}

// scanKeys records the keys of n (and of the tables its dotted keys make).
func (n *lnode) scanKeys() {
	n.done = true
	if n.text == nil || n.start < 0 || n.start > len(*n.text) {
		return
	}
	sc := &lscan{s: *n.text, i: n.start, line: max(n.line, 1), record: true}
	switch n.kind {
	case nodeInline:
		sc.inlineBody(n)
	case nodeHeader:
		sc.tableBody(n, true)
	}
}

// tableBody scans the keys of a table introduced by a header (or the root), and in the first
// pass every header after it. In record mode it stops at the next header.
func (sc *lscan) tableBody(cur *lnode, stopAtHeader bool) {
	root := cur
	for sc.i < len(sc.s) {
		sc.skipBlank()
		if sc.i >= len(sc.s) {
			break
		}
		switch c := sc.s[sc.i]; c {
		case '\n':
			sc.line++
			sc.i++
		case '#':
			sc.skipComment()
		case '[':
			if stopAtHeader {
				return
			}
			cur = sc.header(root)
		default:
			before := sc.i
			sc.keyValue(cur)
			if sc.i == before { // never stall on text the scanner does not understand
				sc.skipLine()
			}
		}
	}
}

// header reads a [table] or [[array.table]] header and returns its node.
func (sc *lscan) header(root *lnode) *lnode {
	line := sc.line
	array := strings.HasPrefix(sc.s[sc.i:], "[[")
	if array {
		sc.i += 2
	} else {
		sc.i++
	}
	path := sc.keyPath(']')
	if sc.i < len(sc.s) && sc.s[sc.i] == ']' {
		sc.i++
		if array && sc.i < len(sc.s) && sc.s[sc.i] == ']' {
			sc.i++
		}
	}
	// A comment after the header is skipped as a comment: quotes in it start no string.
	if sc.skipBlank(); sc.i < len(sc.s) && sc.s[sc.i] == '#' {
		sc.skipComment()
	}
	sc.skipLine()
	if len(path) == 0 {
		return &lnode{line: line, start: -1, done: true} // not understood: keys go nowhere
	}
	n := root
	for _, p := range path[:len(path)-1] {
		n = n.lastKid(p, line, nil)
	}
	last := path[len(path)-1]
	if !array {
		// [a] after an implicit [a.b] makes the implicit table explicit.
		if k := n.kidsNamed(last); k != nil && len(k.nodes) > 0 {
			c := k.nodes[len(k.nodes)-1]
			if c.kind == nodeImplicit && c.owner == nil {
				c.line, c.start, c.kind = line, sc.i, nodeHeader
				return c
			}
		}
	}
	return n.appendKid(last, &lnode{line: line, start: sc.i, kind: nodeHeader})
}

func (sc *lscan) skipBlank() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r':
			sc.i++
		default:
			return
		}
	}
}

// skipWS skips blanks, newlines and comments (inside arrays and TOML 1.1 inline tables).
func (sc *lscan) skipWS() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r':
			sc.i++
		case '\n':
			sc.line++
			sc.i++
		case '#':
			sc.skipComment()
		default:
			return
		}
	}
}

func (sc *lscan) skipComment() {
	for sc.i < len(sc.s) && sc.s[sc.i] != '\n' {
		sc.i++
	}
}

// skipLine skips to the end of the current line (not past the newline).
func (sc *lscan) skipLine() {
	for sc.i < len(sc.s) && sc.s[sc.i] != '\n' {
		c := sc.s[sc.i]
		if c == '"' || c == '\'' {
			sc.str()
			continue
		}
		sc.i++
	}
}

// keyPath reads a dotted key up to (not including) stop ('=' or ']'), unquoting its parts.
func (sc *lscan) keyPath(stop byte) []string {
	var path []string
	for sc.i < len(sc.s) {
		sc.skipBlank()
		if sc.i >= len(sc.s) {
			break
		}
		c := sc.s[sc.i]
		switch {
		case c == stop || c == '\n' || c == '#':
			return path
		case c == '.':
			sc.i++
		case c == '"' || c == '\'':
			start := sc.i
			sc.str()
			path = append(path, unquoteKey(sc.s[start:sc.i]))
		default:
			start := sc.i
			for sc.i < len(sc.s) {
				c := sc.s[sc.i]
				if c == stop || c == '.' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#' || c == '"' || c == '\'' {
					break
				}
				sc.i++
			}
			path = append(path, sc.s[start:sc.i])
		}
	}
	return path
}

func unquoteKey(q string) string {
	if len(q) >= 2 && q[0] == '\'' && q[len(q)-1] == '\'' {
		return q[1 : len(q)-1]
	}
	if s, err := strconv.Unquote(q); err == nil {
		return s
	}
	if len(q) >= 2 && q[0] == '"' && q[len(q)-1] == '"' {
		return q[1 : len(q)-1]
	}
	return q
}

// bareKeyEnd is the end of the bare key (A-Za-z0-9_-) starting at sc.i.
func (sc *lscan) bareKeyEnd() int {
	j := sc.i
	for j < len(sc.s) {
		c := sc.s[j]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			j++
			continue
		}
		break
	}
	return j
}

// keyValue reads `key = value` of table n (dotted keys lead to sub-tables).
func (sc *lscan) keyValue(n *lnode) {
	line := sc.line
	var key string
	// Fast path: a bare key followed by '=' (no allocation).
	if j := sc.bareKeyEnd(); j > sc.i {
		k := j
		for k < len(sc.s) && (sc.s[k] == ' ' || sc.s[k] == '\t') {
			k++
		}
		if k < len(sc.s) && sc.s[k] == '=' {
			key = sc.s[sc.i:j]
			sc.i = k + 1
		}
	}
	if key == "" {
		path := sc.keyPath('=')
		if sc.i >= len(sc.s) || sc.s[sc.i] != '=' || len(path) == 0 {
			return
		}
		sc.i++
		owner := n
		if n.owner != nil {
			owner = n.owner
		}
		for _, p := range path[:len(path)-1] {
			if sc.record {
				n.addKey(p, line)
			}
			if sc.build {
				n = n.lastKid(p, line, owner)
			} else if n = n.kid(p, len(n.kidsNamed(p).nodesOrNil())-1); n == nil {
				n = &lnode{start: -1, done: true} // not found: keys go nowhere
			}
		}
		key = path[len(path)-1]
	}
	if sc.record {
		n.addKey(key, line)
	}
	sc.skipBlank()
	rec := sc.record
	sc.record = false // nested inline tables are scanned on their own
	sc.value(n, key)
	sc.record = rec
}

func (k *lkids) nodesOrNil() []*lnode {
	if k == nil {
		return nil
	}
	return k.nodes
}

// value reads one value belonging to key of table n.
func (sc *lscan) value(n *lnode, key string) {
	if sc.i >= len(sc.s) {
		return
	}
	switch sc.s[sc.i] {
	case '{':
		line := sc.line
		sc.i++
		c := &lnode{line: line, start: sc.i, kind: nodeInline}
		if sc.build {
			n.appendKid(key, c)
		}
		sc.inlineBody(c)
	case '[':
		sc.array(n, key)
	case '"', '\'':
		sc.str()
	default:
		for sc.i < len(sc.s) {
			c := sc.s[sc.i]
			if c == ',' || c == ']' || c == '}' || c == '\n' || c == '#' {
				break
			}
			sc.i++
		}
	}
}

// array reads an inline array; its inline-table elements become kids named key of n.
func (sc *lscan) array(n *lnode, key string) {
	sc.i++ // [
	for sc.i < len(sc.s) {
		sc.skipWS()
		if sc.i >= len(sc.s) {
			return
		}
		switch sc.s[sc.i] {
		case ']':
			sc.i++
			return
		case ',':
			sc.i++
		default:
			before := sc.i
			sc.value(n, key)
			if sc.i == before {
				sc.i++
			}
		}
	}
}

// inlineBody reads the k = v pairs of an inline table up to its '}'.
func (sc *lscan) inlineBody(n *lnode) {
	for sc.i < len(sc.s) {
		sc.skipWS()
		if sc.i >= len(sc.s) {
			return
		}
		switch sc.s[sc.i] {
		case '}':
			sc.i++
			return
		case ',':
			sc.i++
		default:
			before := sc.i
			sc.keyValue(n)
			if sc.i == before {
				sc.i++
			}
		}
	}
}

// str skips a basic, literal or multi-line string starting at sc.i.
func (sc *lscan) str() {
	q := sc.s[sc.i]
	if strings.HasPrefix(sc.s[sc.i:], string([]byte{q, q, q})) {
		sc.i += 3
		for sc.i < len(sc.s) {
			c := sc.s[sc.i]
			switch {
			case c == '\\' && q == '"':
				if sc.i+1 < len(sc.s) && sc.s[sc.i+1] == '\n' {
					sc.line++
				}
				sc.i += 2
			case c == '\n':
				sc.line++
				sc.i++
			case c == q && strings.HasPrefix(sc.s[sc.i:], string([]byte{q, q, q})):
				sc.i += 3
				// Up to two more quotes may end the string ("""a"""" is a" + ").
				for k := 0; k < 2 && sc.i < len(sc.s) && sc.s[sc.i] == q; k++ {
					sc.i++
				}
				return
			default:
				sc.i++
			}
		}
		sc.i = min(sc.i, len(sc.s))
		return
	}
	sc.i++
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '\\' && q == '"':
			sc.i += 2
		case c == q:
			sc.i++
			return
		case c == '\n':
			return
		default:
			sc.i++
		}
	}
	sc.i = min(sc.i, len(sc.s))
}
