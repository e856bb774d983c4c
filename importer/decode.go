package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// FileError is a file the importer cannot read as Azure JSON: malformed or truncated JSON (with
// the line and column), or JSON of no kind the importer knows.
type FileError struct {
	File   string
	Line   int // 1-based; 0 when the problem is not at one place
	Column int
	Msg    string
	noKind bool // valid JSON of no known kind (skipped, not fatal, in a folder)
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d, column %d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	if e.noKind {
		return e.File + ": " + e.Msg + "; " + noKindHelp
	}
	return e.File + ": " + e.Msg
}

// span is a byte range of one JSON value inside a buffer.
type span struct{ lo, hi int }

// item is one top-level resource object of an input file.
type item struct {
	file int // index into the sorted inputs
	buf  []byte
	sp   span
	r    *resource
	kind kind
	hint string // for kUnknown: what the object looks like
}

func (it *item) raw() []byte { return it.buf[it.sp.lo:it.sp.hi] }

// decoded is what one input file held.
type decoded struct {
	name     string
	data     []byte // UTF-8
	items    []item
	tags     []tagRaw
	isTags   bool
	paged    bool // a REST list response with a nextLink: only the first page
	shape    string
	err      error
	inFolder bool
}

// toUTF8 strips a UTF-8 byte order mark and converts UTF-16 (what Windows PowerShell's ">" writes)
// to UTF-8.
func toUTF8(b []byte) []byte {
	switch {
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
		return b[3:]
	case len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE:
		return utf16ToUTF8(b[2:], false)
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		return utf16ToUTF8(b[2:], true)
	case len(b) >= 4 && b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0:
		return utf16ToUTF8(b, false)
	case len(b) >= 4 && b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0:
		return utf16ToUTF8(b, true)
	}
	return b
}

func utf16ToUTF8(b []byte, bigEndian bool) []byte {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	out := make([]byte, 0, len(u))
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out
}

// lineCol turns a byte offset into a 1-based line and column (in bytes) of data.
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	p := off
	if p > 0 && p < len(data) {
		p-- // json.SyntaxError.Offset counts the byte that was read when the error was found
	}
	// At the end of the data (a truncated file) the position is just after the last byte.
	line := 1 + bytes.Count(data[:p], []byte{'\n'})
	col := p - bytes.LastIndexByte(data[:p], '\n')
	return line, col
}

func (d *decoded) dupErr(dk *dupKeyErr) error {
	l, c := lineCol(d.data, dk.off)
	return &FileError{File: d.name, Line: l, Column: c, Msg: dk.Error()}
}

func (d *decoded) syntaxErr(off int, msg string) error {
	l, c := lineCol(d.data, off)
	return &FileError{File: d.name, Line: l, Column: c, Msg: "malformed JSON: " + msg}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

var errEOF = errors.New("unexpected end of JSON input (is the file truncated?)")

type scanErr struct {
	off int
	err error
}

func (e *scanErr) Error() string { return e.err.Error() }

// skipValue returns the index just after the JSON value starting at b[i]. It checks only the
// structure needed to find the value's end; json.Unmarshal checks the rest.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, &scanErr{len(b), errEOF}
	}
	switch c := b[i]; c {
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return end, err
				}
				j = end - 1
			}
		}
		return len(b), &scanErr{len(b), errEOF}
	case '"':
		return skipString(b, i)
	case ',', ']', '}', ':':
		return i, &scanErr{i + 1, fmt.Errorf("invalid character %q looking for beginning of value", c)}
	default:
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != ']' && b[j] != '}' {
			j++
		}
		return j, nil
	}
}

func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return len(b), &scanErr{len(b), errEOF}
}

// splitArray splits the JSON array starting at b[i] into its elements and returns the index just
// after it.
func splitArray(b []byte, i int) ([]span, int, error) {
	i++
	var out []span
	i = skipWS(b, i)
	if i < len(b) && b[i] == ']' {
		return out, i + 1, nil
	}
	for {
		i = skipWS(b, i)
		start := i
		end, err := skipValue(b, i)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, span{start, end})
		i = skipWS(b, end)
		if i >= len(b) {
			return nil, 0, &scanErr{len(b), errEOF}
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			return out, i + 1, nil
		default:
			return nil, 0, &scanErr{i + 1, fmt.Errorf("invalid character %q after array element", b[i])}
		}
	}
}

func jsonErrOffset(err error) (int, bool) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return int(se.Offset), true
	}
	return 0, false
}

// decodeInput does the first, cheap pass over one file: it finds the resource objects (splitting
// arrays without decoding them) and decodes the Service Tags file.
func decodeInput(d *decoded) {
	d.data = toUTF8(d.data)
	b := d.data
	i := skipWS(b, 0)
	if i >= len(b) {
		d.err = &FileError{File: d.name, Msg: "empty file: expected the JSON output of an az command"}
		return
	}
	switch b[i] {
	case '[':
		elems, end, err := splitArray(b, i)
		if err != nil {
			var se *scanErr
			if errors.As(err, &se) {
				d.err = d.syntaxErr(se.off, se.err.Error())
			} else {
				d.err = d.syntaxErr(end, err.Error())
			}
			return
		}
		if j := skipWS(b, end); j < len(b) {
			d.err = d.syntaxErr(j+1, fmt.Sprintf("invalid character %q after top-level value (two outputs in one file?)", b[j]))
			return
		}
		d.shape = "array"
		for _, e := range elems {
			d.items = append(d.items, item{buf: b, sp: e})
		}
	case '{':
		var env envelope
		if err := json.Unmarshal(b, &env); err != nil {
			if off, ok := jsonErrOffset(err); ok {
				d.err = d.syntaxErr(off, strings.TrimPrefix(err.Error(), "json: "))
				return
			}
			// A type mismatch in an envelope field: not an envelope.
			env = envelope{}
		}
		if dk := findDupKey(b, i); dk != nil {
			d.err = d.dupErr(dk)
			return
		}
		d.unwrap(b, &env, 0)
	default:
		if json.Valid(b) {
			d.err = &FileError{File: d.name, Msg: "no known kind: the file holds a JSON " + jsonKind(b[i]) + ", not the resource objects that az prints", noKind: true}
			return
		}
		var v any
		err := json.Unmarshal(b, &v)
		off, _ := jsonErrOffset(err)
		msg := "invalid JSON"
		if err != nil {
			msg = strings.TrimPrefix(err.Error(), "json: ")
		}
		d.err = d.syntaxErr(off, msg)
	}
}

func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// isObject reports whether r is a JSON object (after white space).
func isObject(r []byte) bool {
	j := skipWS(r, 0)
	return j < len(r) && r[j] == '{'
}

// unwrap handles a top-level object (already validated as JSON): an envelope around resources, the
// Service Tags file, or a single resource.
func (d *decoded) unwrap(b []byte, env *envelope, depth int) {
	isArray := func(r json.RawMessage) bool {
		j := skipWS(r, 0)
		return j < len(r) && r[j] == '['
	}
	switch {
	case env.Responses != nil && depth < 3:
		// An example from the Azure REST API specifications: the response body is the output.
		keys := make([]string, 0, len(env.Responses))
		for k := range env.Responses {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			// 200 first, then other 2xx in order.
			if (keys[i] == "200") != (keys[j] == "200") {
				return keys[i] == "200"
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			if !strings.HasPrefix(k, "2") {
				continue
			}
			var resp responseRaw
			if json.Unmarshal(env.Responses[k], &resp) != nil {
				continue
			}
			body := resp.Body
			j := skipWS(body, 0)
			if j >= len(body) {
				continue
			}
			d.shape = "REST API example"
			switch body[j] {
			case '[':
				elems, _, err := splitArray(body, j)
				if err == nil {
					for _, e := range elems {
						d.items = append(d.items, item{buf: body, sp: e})
					}
				}
			case '{':
				var inner envelope
				if json.Unmarshal(body, &inner) != nil {
					inner = envelope{}
				}
				d.unwrap(body, &inner, depth+1)
			}
			return
		}
		d.items = append(d.items, item{buf: b, sp: span{0, len(b)}})
	case isArray(env.Value) || isArray(env.Data):
		raw := env.Value
		d.shape = "REST list"
		if !isArray(raw) {
			raw = env.Data
			d.shape = "Resource Graph response"
		}
		d.paged = strings.TrimSpace(env.NextLink+env.SkipToken+env.SkipTok2) != ""
		elems, _, err := splitArray(raw, skipWS(raw, 0))
		if err != nil {
			return
		}
		for _, e := range elems {
			d.items = append(d.items, item{buf: raw, sp: e})
		}
	case isArray(env.Values):
		d.isTags = true
		var tags []tagRaw
		if err := json.Unmarshal(env.Values, &tags); err != nil {
			// Lenient: decode entry by entry, keeping the ones that make sense.
			elems, _, _ := splitArray(env.Values, skipWS(env.Values, 0))
			for _, e := range elems {
				var t tagRaw
				_ = json.Unmarshal(env.Values[e.lo:e.hi], &t)
				tags = append(tags, t)
			}
		}
		d.tags = tags
	case isObject(b):
		d.shape = "object"
		d.items = append(d.items, item{buf: b, sp: span{skipWS(b, 0), len(b)}})
	}
}

// decodeItem decodes one resource object and classifies it.
func decodeItem(it *item) error {
	if dk := findDupKey(it.buf, it.sp.lo); dk != nil {
		return dk
	}
	r := new(resource)
	if err := r.UnmarshalJSON(it.raw()); err != nil { // not json.Unmarshal: that would scan it twice more
		if off, ok := jsonErrOffset(err); ok {
			return &scanErr{it.sp.lo + off, errors.New(strings.TrimPrefix(err.Error(), "json: "))}
		}
		// *json.UnmarshalTypeError: a field of an unexpected type was skipped; the rest is decoded.
	}
	it.r = r
	it.kind, it.hint = classify(r)
	return nil
}

// decodeAll decodes every input, using every CPU: first each file's structure, then every
// resource object.
func decodeAll(ds []*decoded) {
	workers := runtime.GOMAXPROCS(0)
	parallel := func(n int, f func(i int)) {
		if n == 0 {
			return
		}
		w := min(workers, n)
		var wg sync.WaitGroup
		var mu sync.Mutex
		next := 0
		for range w {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next += 64
					mu.Unlock()
					if i >= n {
						return
					}
					for k := i; k < min(i+64, n); k++ {
						f(k)
					}
				}
			}()
		}
		wg.Wait()
	}
	parallel(len(ds), func(i int) { decodeInput(ds[i]) })

	type ref struct{ d, i int }
	var all []ref
	for di, d := range ds {
		if d.err != nil {
			continue
		}
		for ii := range d.items {
			d.items[ii].file = di
			all = append(all, ref{di, ii})
		}
	}
	errs := make([]error, len(all))
	parallel(len(all), func(k int) {
		d := ds[all[k].d]
		errs[k] = decodeItem(&d.items[all[k].i])
	})
	for k, err := range errs {
		d := ds[all[k].d]
		if err != nil && d.err == nil {
			var se *scanErr
			var dk *dupKeyErr
			sameBuf := &d.items[all[k].i].buf[0] == &d.data[0]
			if errors.As(err, &dk) {
				if sameBuf {
					d.err = d.dupErr(dk)
				} else {
					d.err = &FileError{File: d.name, Msg: dk.Error()}
				}
			} else if errors.As(err, &se) && sameBuf {
				d.err = d.syntaxErr(se.off, se.err.Error())
			} else {
				d.err = &FileError{File: d.name, Msg: "malformed JSON: " + err.Error()}
			}
		}
	}
}
