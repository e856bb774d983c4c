package model

import (
	"strconv"
	"strings"
)

// The TOML library does not export where keys are, so lineindex.go scans the raw text of a
// (syntactically valid) fixture once and records, for every table instance, the line of its
// header and of each of its keys. The tree mirrors the decoded data: the N-th [[nsg]] is
// root.kids("nsg")[N], its M-th [[nsg.rule]] is that node's kids("rule")[M], and so on; inline
// tables (including the elements of an inline array of inline tables) become nodes too.
//
// The scanner never fails: on input it does not understand it records less, and the loader falls
// back to the nearest known line.

type lnode struct {
	line int // line of the header, of the inline table's '{', or of the key that created it
	keys []lkey
	kids []lkids

	// Indexes of keys and kids by name, built once a table has many (so that a table of
	// 100,000 keys is not scanned 100,000 times).
	keyIdx map[string]int
	kidIdx map[string]int
}

const lnodeMapAt = 16

type lkey struct {
	name string
	line int
}

type lkids struct {
	name  string
	nodes []*lnode
}

// keyLine is the line of key in this table, or 0.
func (n *lnode) keyLine(key string) int {
	if n == nil {
		return 0
	}
	if n.keyIdx != nil {
		if i, ok := n.keyIdx[key]; ok {
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

func (n *lnode) kidsNamed(key string) *lkids {
	if n.kidIdx != nil {
		if i, ok := n.kidIdx[key]; ok {
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
	if n.keyLine(name) > 0 {
		return
	}
	if n.keys == nil {
		n.keys = make([]lkey, 0, 12) // one allocation for a typical rule
	}
	n.keys = append(n.keys, lkey{name, line})
	switch {
	case n.keyIdx != nil:
		n.keyIdx[name] = len(n.keys) - 1
	case len(n.keys) == lnodeMapAt:
		n.keyIdx = make(map[string]int, 2*lnodeMapAt)
		for i, k := range n.keys {
			if _, dup := n.keyIdx[k.name]; !dup {
				n.keyIdx[k.name] = i
			}
		}
	}
}

// appendKid adds a new table instance named key below n.
func (n *lnode) appendKid(key string, line int) *lnode {
	c := &lnode{line: line}
	if k := n.kidsNamed(key); k != nil {
		k.nodes = append(k.nodes, c)
		return c
	}
	n.kids = append(n.kids, lkids{name: key, nodes: []*lnode{c}})
	switch {
	case n.kidIdx != nil:
		n.kidIdx[key] = len(n.kids) - 1
	case len(n.kids) == lnodeMapAt:
		n.kidIdx = make(map[string]int, 2*lnodeMapAt)
		for i, k := range n.kids {
			n.kidIdx[k.name] = i
		}
	}
	return c
}

// lastKid is the last table instance named key below n, created when there is none.
func (n *lnode) lastKid(key string, line int) *lnode {
	if k := n.kidsNamed(key); k != nil && len(k.nodes) > 0 {
		return k.nodes[len(k.nodes)-1]
	}
	return n.appendKid(key, line)
}

type lscan struct {
	s    string
	i    int
	line int
}

// indexLines builds the line tree of a TOML text.
func indexLines(text string) *lnode {
	sc := &lscan{s: text, line: 1}
	root := &lnode{line: 0}
	cur := root
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
			if len(path) == 0 {
				sc.skipLine()
				continue
			}
			n := root
			for _, p := range path[:len(path)-1] {
				n = n.lastKid(p, line)
			}
			last := path[len(path)-1]
			if array {
				cur = n.appendKid(last, line)
			} else {
				// [a] after an implicit [a.b] reuses the implicit table.
				if k := n.kidsNamed(last); k != nil && len(k.nodes) > 0 {
					cur = k.nodes[len(k.nodes)-1]
					cur.line = line
				} else {
					cur = n.appendKid(last, line)
				}
			}
			sc.skipLine()
		default:
			before := sc.i
			sc.keyValue(cur)
			if sc.i == before { // never stall on input the scanner does not understand
				sc.skipLine()
			}
		}
	}
	return root
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

// keyValue reads `key = value` into table n (dotted keys create sub-tables).
func (sc *lscan) keyValue(n *lnode) {
	line := sc.line
	// Fast path: a bare key followed by '=' (no allocation).
	if j := sc.bareKeyEnd(); j > sc.i {
		k := j
		for k < len(sc.s) && (sc.s[k] == ' ' || sc.s[k] == '\t') {
			k++
		}
		if k < len(sc.s) && sc.s[k] == '=' {
			key := sc.s[sc.i:j]
			sc.i = k + 1
			n.addKey(key, line)
			sc.skipBlank()
			sc.value(n, key)
			return
		}
	}
	path := sc.keyPath('=')
	if sc.i >= len(sc.s) || sc.s[sc.i] != '=' || len(path) == 0 {
		return
	}
	sc.i++
	for _, p := range path[:len(path)-1] {
		n.addKey(p, line)
		n = n.lastKid(p, line)
	}
	key := path[len(path)-1]
	n.addKey(key, line)
	sc.skipBlank()
	sc.value(n, key)
}

// value reads one value belonging to key of table n.
func (sc *lscan) value(n *lnode, key string) {
	if sc.i >= len(sc.s) {
		return
	}
	switch sc.s[sc.i] {
	case '{':
		sc.inlineTable(n.appendKid(key, sc.line))
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

// inlineTable reads { k = v, ... } into n.
func (sc *lscan) inlineTable(n *lnode) {
	sc.i++ // {
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
