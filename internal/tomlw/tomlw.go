// Package tomlw writes TOML fixtures line by line: the one writer of the importer and of the
// generated estates of tests and benchmarks. Strings are quoted, and comments escaped, with the
// model's escaping rules, so nothing written can hold a raw control or bidi character.
package tomlw

import (
	"strconv"

	"ipflow/model"
)

// Writer accumulates TOML text.
type Writer struct {
	b []byte
}

// New returns a Writer with room for size bytes.
func New(size int) *Writer { return &Writer{b: make([]byte, 0, size)} }

// Bytes returns the text written so far.
func (w *Writer) Bytes() []byte { return w.b }

// Len is the number of bytes written so far.
func (w *Writer) Len() int { return len(w.b) }

// Line writes indent, s and a newline; s is written as it is (a table header, a blank line).
func (w *Writer) Line(indent string, s string) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, s...)
	w.b = append(w.b, '\n')
}

func (w *Writer) key(indent, key string) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, key...)
	w.b = append(w.b, " = "...)
}

// Str writes key = "value".
func (w *Writer) Str(indent, key, val string) {
	w.key(indent, key)
	w.b = model.AppendTOMLString(w.b, val)
	w.b = append(w.b, '\n')
}

// Bool writes key = true|false.
func (w *Writer) Bool(indent, key string, v bool) {
	w.key(indent, key)
	w.b = strconv.AppendBool(w.b, v)
	w.b = append(w.b, '\n')
}

// Int writes key = N.
func (w *Writer) Int(indent, key string, v int) {
	w.key(indent, key)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
	w.b = append(w.b, '\n')
}

// List writes key = ["a", "b"], wrapping long lists over several lines of about 100 columns.
func (w *Writer) List(indent, key string, vals []string) {
	start := len(w.b)
	w.key(indent, key)
	w.b = append(w.b, '[')
	single := len(w.b)
	for i, v := range vals {
		if i > 0 {
			w.b = append(w.b, ", "...)
		}
		w.b = model.AppendTOMLString(w.b, v)
	}
	w.b = append(w.b, ']')
	if len(w.b)-start <= 100 {
		w.b = append(w.b, '\n')
		return
	}
	w.b = w.b[:single]
	w.b = append(w.b, '\n')
	lineStart := len(w.b)
	w.b = append(w.b, indent...)
	w.b = append(w.b, "  "...)
	for i, v := range vals {
		item := model.AppendTOMLString(nil, v)
		if len(w.b)-lineStart+len(item)+1 > 100 && len(w.b)-lineStart > len(indent)+2 {
			w.b = append(w.b, '\n')
			lineStart = len(w.b)
			w.b = append(w.b, indent...)
			w.b = append(w.b, "  "...)
		} else if i > 0 {
			w.b = append(w.b, ' ')
		}
		w.b = append(w.b, item...)
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '\n')
	w.b = append(w.b, indent...)
	w.b = append(w.b, "]\n"...)
}

// StrOrList writes a single value as a string and several as a list.
func (w *Writer) StrOrList(indent, key string, vals []string) {
	if len(vals) == 1 {
		w.Str(indent, key, vals[0])
		return
	}
	w.List(indent, key, vals)
}

// Comment writes "# text", escaped as model.Printable escapes (a comment ends at a newline and
// may hold no control character).
func (w *Writer) Comment(indent, text string) {
	w.b = append(w.b, indent...)
	w.b = append(w.b, "# "...)
	w.b = append(w.b, model.Printable(text)...)
	w.b = append(w.b, '\n')
}
