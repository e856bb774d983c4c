package model

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// tab is a typed reader over one decoded TOML table: every accessor reports a wrong type at the
// key's line and returns ok=false, so that one pass finds every problem in a fixture.
type tab struct {
	l    *loader
	f    *srcFile
	m    map[string]any
	node *lnode // line index of this table; nil when unknown
	line int    // line of the table's header (fallback for its keys)
	// offset is how many tables of the array being read the file has before this table's (a
	// top-level table of a piece of a file: stream.go), for the #N of messages.
	offset int

	// The resource path for messages, built only when needed: parent's path, then kind "name"
	// (or kind #N while the table has no valid name).
	parent *tab
	kind   string
	name   string
	named  bool
	idx    int
	res    string // cached (or set directly for tables that are not resources)
}

// resource is the table's resource path, like nsg "web" rule "allow-https".
func (t *tab) resource() string {
	if t.res != "" || t.kind == "" {
		return t.res
	}
	p := ""
	if t.parent != nil {
		if p = t.parent.resource(); p != "" {
			p += " "
		}
	}
	if t.named {
		t.res = p + t.kind + " " + QuoteName(t.name)
	} else {
		t.res = p + t.kind + " #" + strconv.Itoa(t.idx+1)
	}
	return t.res
}

// setName names the resource (after its name was read and found valid).
func (t *tab) setName(name string) {
	t.name, t.named, t.res = name, true, ""
}

func (t *tab) pos(key string) Pos {
	if ln := t.node.keyLine(key); ln > 0 {
		return Pos{File: t.f.name, Line: ln}
	}
	if c := t.node.kid(key, 0); c != nil && c.line > 0 { // [key] or [[key]] headers
		return Pos{File: t.f.name, Line: c.line}
	}
	return t.hpos()
}

// hpos is the position of the table itself.
func (t *tab) hpos() Pos { return Pos{File: t.f.name, Line: t.line} }

func (t *tab) errf(key string, format string, args ...any) {
	t.l.errAt(t.pos(key), t.resource(), fmt.Sprintf(format, args...))
}

func (t *tab) warnf(key string, format string, args ...any) {
	t.l.warnAt(t.pos(key), t.resource(), fmt.Sprintf(format, args...))
}

// done lets the table's decoded values go once it has been read: tables kept for messages need
// only their position and resource path, and the values would keep the decoder's copy of the
// text alive.
func (t *tab) done() { t.m = nil }

func (t *tab) has(key string) bool {
	_, ok := t.m[key]
	return ok
}

// missing reports a required key that is absent; what says what it takes.
func (t *tab) missing(key, what string) {
	msg := "missing required key " + key
	if what != "" {
		msg += " (" + what + ")"
	}
	t.l.errAt(t.hpos(), t.resource(), msg)
}

// Passed as want to str and integer: the key is optional.
const optional = ""

// The TOML decoder's strings are parts of its copy of the text: what is read is cloned, so that
// the model does not keep every piece of the fixture's text alive.

// str reads a string. want, when not optional, makes the key required and says what it takes.
// ok is false when the key is absent or not a string.
func (t *tab) str(key, want string) (string, bool) {
	v, ok := t.m[key]
	if !ok {
		if want != optional {
			t.missing(key, want)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		t.errf(key, "%s: expected a string, got %s", key, describe(v))
		return "", false
	}
	return strings.Clone(s), true
}

// integer reads an integer, like str.
func (t *tab) integer(key, want string) (int64, bool) {
	v, ok := t.m[key]
	if !ok {
		if want != optional {
			t.missing(key, want)
		}
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			t.errf(key, "%s: expected an integer, got a float (%s); write %d", key, fmtFloat(n), int64(n))
			return 0, false
		}
	}
	t.errf(key, "%s: expected an integer, got %s", key, describe(v))
	return 0, false
}

// boolean reads a boolean.
func (t *tab) boolean(key string) (bool, bool) {
	v, ok := t.m[key]
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		t.errf(key, "%s: expected true or false, got %s", key, describe(v))
		return false, false
	}
	return b, true
}

// strs reads an array of strings; every element of the wrong type is reported.
// present says whether the key exists; ok whether every element is a string.
func (t *tab) strs(key string) (out []string, present, ok bool) {
	v, present := t.m[key]
	if !present {
		return nil, false, true
	}
	arr, isArr := v.([]any)
	if !isArr {
		if s, isStr := v.(string); isStr {
			t.errf(key, "%s: expected an array of strings, got a string; write %s = [%q]", key, key, s)
		} else {
			t.errf(key, "%s: expected an array of strings, got %s", key, describe(v))
		}
		return nil, true, false
	}
	return t.strElems(key, arr)
}

func (t *tab) strElems(key string, arr []any) (out []string, present, ok bool) {
	ok = true
	out = make([]string, 0, len(arr))
	for i, e := range arr {
		s, isStr := e.(string)
		if !isStr {
			t.errf(key, "%s[%d]: expected a string, got %s", key, i, describe(e))
			ok = false
			continue
		}
		out = append(out, strings.Clone(s))
	}
	return out, true, ok
}

// strOrStrs reads a string or an array of strings. list says whether an array was written.
func (t *tab) strOrStrs(key string) (out []string, list, present, ok bool) {
	v, present := t.m[key]
	if !present {
		return nil, false, false, true
	}
	switch x := v.(type) {
	case string:
		return []string{strings.Clone(x)}, false, true, true
	case []any:
		out, _, ok = t.strElems(key, x)
		return out, true, true, ok
	}
	t.errf(key, "%s: expected a string or an array of strings, got %s", key, describe(v))
	return nil, false, true, false
}

// tables reads an array of tables, written as [[header]] or as an inline array of inline
// tables. Each returned reader is the resource kind #N below t until the caller names it.
func (t *tab) tables(key, header, kind string) []*tab {
	v, ok := t.m[key]
	if !ok {
		return nil
	}
	var elems []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		elems = x
	case []any:
		elems = make([]map[string]any, len(x))
		bad := false
		for i, e := range x {
			m, isMap := e.(map[string]any)
			if !isMap {
				t.errf(key, "%s[%d]: expected a table ({ name = ... }), got %s", key, i, describe(e))
				bad = true
				continue
			}
			elems[i] = m
		}
		if bad {
			// The line index has nodes for the inline tables only: count those.
			out := make([]*tab, 0, len(x))
			node := 0
			for i, m := range elems {
				if m != nil {
					c := t.child(key, node, m, kind)
					c.idx = t.offset + i
					out = append(out, c)
					node++
				}
			}
			return out
		}
	case map[string]any:
		t.errf(key, "%s: expected an array of tables written [[%s]], got a single table; write [[%s]]", key, header, header)
		return nil
	default:
		t.errf(key, "%s: expected an array of tables ([[%s]]), got %s", key, header, describe(v))
		return nil
	}
	out := make([]*tab, len(elems))
	for i, m := range elems {
		out[i] = t.child(key, i, m, kind)
		out[i].idx += t.offset
	}
	return out
}

func (t *tab) child(key string, i int, m map[string]any, kind string) *tab {
	c := &tab{l: t.l, f: t.f, m: m, node: t.node.kid(key, i), parent: t, kind: kind, idx: i}
	if c.node != nil {
		c.line = c.node.line
	} else {
		c.line = t.pos(key).Line
	}
	return c
}

// table reads a single table ([header] or an inline table).
func (t *tab) table(key, header string) *tab {
	v, ok := t.m[key]
	if !ok {
		return nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		t.errf(key, "%s: expected a table ([%s]), got %s", key, header, describe(v))
		return nil
	}
	c := t.child(key, 0, m, "")
	c.res = header
	return c
}

// unknown reports every key of the table that is not in known, with a suggestion when a known
// key is close. hints maps a key to a specific explanation.
func (t *tab) unknown(known []string, hints map[string]string) {
	if len(t.m) <= len(known) {
		// Fast path: every key known.
		all := true
		for k := range t.m {
			if !slices.Contains(known, k) {
				all = false
				break
			}
		}
		if all {
			return
		}
	}
	var bad []string
	for k := range t.m {
		if !slices.Contains(known, k) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	for _, k := range bad {
		if h, ok := hints[k]; ok {
			t.errf(k, "%s: %s", quoteKey(k), h)
			continue
		}
		msg := "unknown key " + quoteKey(k)
		if s := Suggest(k, known); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		} else {
			msg += "; valid keys are " + joinKeys(known)
		}
		t.errf(k, "%s", msg)
	}
}

func joinKeys(keys []string) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}

// quoteKey shows a key as it would be written: bare when it can be, else quoted.
func quoteKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return QuoteName(k)
		}
	}
	return k
}

// describe names a decoded TOML value's type, with the value when it is short.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			return "a string"
		}
		return fmt.Sprintf("a string (%q)", x)
	case int64:
		return fmt.Sprintf("an integer (%d)", x)
	case float64:
		return fmt.Sprintf("a float (%s)", fmtFloat(x))
	case bool:
		return fmt.Sprintf("a boolean (%t)", x)
	case time.Time:
		return "a date-time"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func isEmptyArray(v any) bool {
	switch x := v.(type) {
	case []any:
		return len(x) == 0
	case []map[string]any:
		return len(x) == 0
	}
	return false
}
