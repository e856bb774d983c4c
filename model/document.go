package model

import "fmt"

// Document gives other TOML file formats (flows files) the fixture loader's machinery: the
// same decoder, line index and typed reads, so that their errors read like a fixture's —
// file:line, the resource, the key, what would be valid, a "did you mean" — all found in one pass.
type Document struct {
	l     *loader
	roots []*Table
}

// ReadDocument decodes srcs. Syntax errors are recorded (see Err); the files that decoded are
// Roots, in order.
func ReadDocument(srcs ...Source) *Document {
	l := newLoader()
	d := &Document{l: l}
	func() {
		defer func() {
			if r := recover(); r != nil && recoverPanics {
				l.errAt(Pos{}, "", fmt.Sprintf("internal error while reading %d file(s) (please report): %v", len(srcs), r))
			} else if r != nil {
				panic(r)
			}
		}()
		l.decode(srcs, false)
	}()
	for _, t := range l.roots() {
		d.roots = append(d.roots, &Table{t})
	}
	return d
}

// Roots are the top-level tables of the files that decoded.
func (d *Document) Roots() []*Table { return d.roots }

// Err is every error recorded so far, sorted by file and line, as a *LoadError; nil when none.
func (d *Document) Err() error {
	if len(d.l.errs) == 0 {
		return nil
	}
	d.l.sortIssues()
	return &LoadError{Errors: d.l.errs}
}

// Table reads one decoded table; every read reports a wrong type or a missing key at its line.
type Table struct{ t *tab }

// Str reads a string; a non-empty want makes the key required and says what it takes.
func (t *Table) Str(key, want string) (string, bool) { return t.t.str(key, want) }

// Has reports whether the table has key.
func (t *Table) Has(key string) bool { return t.t.has(key) }

// Tables reads an array of tables written [[header]]; each is resource kind #N until named.
func (t *Table) Tables(key, header, kind string) []*Table {
	ts := t.t.tables(key, header, kind)
	out := make([]*Table, len(ts))
	for i, c := range ts {
		out[i] = &Table{c}
	}
	return out
}

// Unknown reports every key not in known, with a suggestion when one is close; hints explain
// particular keys.
func (t *Table) Unknown(known []string, hints map[string]string) { t.t.unknown(known, hints) }

// SetName names the resource in later messages (kind "name" instead of kind #N).
func (t *Table) SetName(name string) { t.t.setName(name) }

// Errorf records an error at key's line (the table's header when the key is absent).
func (t *Table) Errorf(key, format string, args ...any) { t.t.errf(key, format, args...) }

// Pos is where key is written, or the table's header.
func (t *Table) Pos(key string) Pos { return t.t.pos(key) }

// HeaderPos is where the table starts.
func (t *Table) HeaderPos() Pos { return t.t.hpos() }

// File is the name of the file the table is in.
func (t *Table) File() string { return t.t.f.name }
