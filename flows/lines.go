package flows

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// LineReader reads flows one per line, as ipflow verify --batch takes them: JSON objects with
// the fields vm, nic, direction, protocol, local and remote (all strings), or CSV whose first
// line is a header naming those columns. The first non-blank line decides which. Blank lines are
// skipped. A bad line is an error for that line only; a bad CSV header stops the reader.
type LineReader struct {
	r    *bufio.Reader
	n    int
	mode uint8 // modeUnknown until the first non-blank line
	cols []int // for CSV: column → index into FieldNames
	err  error
	// strs interns field values (VM names, directions, ...): a batch repeats them, and a
	// lookup by bytes does not allocate where a new string would.
	strs map[string]string
}

const maxInterned = 4096

// str returns b as a string, interned.
func (lr *LineReader) str(b []byte) string {
	if s, ok := lr.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(lr.strs) < maxInterned && len(s) <= 64 {
		lr.strs[s] = s
	}
	return s
}

const (
	modeUnknown = iota
	modeJSON
	modeCSV
)

// MaxLineLen bounds a line (a longer one is an error for that line, and is skipped).
const MaxLineLen = 64 << 10

// Line is one flow read, or what is wrong with its line.
type Line struct {
	N      int // line number, from 1
	Fields Fields
	Err    error
}

// NewLineReader reads flows from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, MaxLineLen), strs: map[string]string{}}
}

// Err is what stopped the reader early (a read error or a bad CSV header), or nil at the end.
func (lr *LineReader) Err() error { return lr.err }

// Next reads the next flow; false at the end of input or when the reader stopped (see Err).
func (lr *LineReader) Next() (Line, bool) {
	for lr.err == nil {
		raw, err := lr.r.ReadSlice('\n')
		if len(raw) == 0 && err != nil {
			if err != io.EOF {
				lr.err = fmt.Errorf("after line %d: %v", lr.n, err)
			}
			return Line{}, false
		}
		lr.n++
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of the line
				_, err = lr.r.ReadSlice('\n')
			}
			return Line{N: lr.n, Err: fmt.Errorf("line is longer than %d KiB", MaxLineLen>>10)}, true
		}
		if lr.n == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\uFEFF"))
		}
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		if lr.mode == modeUnknown {
			if line[0] == '{' {
				lr.mode = modeJSON
			} else {
				lr.mode = modeCSV
				if err := lr.header(line); err != nil {
					lr.err = fmt.Errorf("line %d: %v", lr.n, err)
					return Line{}, false
				}
				continue
			}
		}
		l := Line{N: lr.n}
		if lr.mode == modeJSON {
			l.Fields, l.Err = parseJSONLine(line, lr.str)
		} else {
			l.Fields, l.Err = lr.csvLine(line)
		}
		return l, true
	}
	return Line{}, false
}

// field returns a pointer to the field named by FieldNames[i].
func (f *Fields) field(i int) *string {
	return [...]*string{&f.VM, &f.NIC, &f.Direction, &f.Protocol, &f.Local, &f.Remote}[i]
}

var requiredFields = []string{"vm", "direction", "protocol", "local", "remote"}

func (lr *LineReader) header(line []byte) error {
	if !utf8.Valid(line) {
		return errors.New("the CSV header is not valid UTF-8")
	}
	names, err := splitCSV(line)
	if err != nil {
		return fmt.Errorf("CSV header: %v", err)
	}
	var problems []string
	seen := map[int]bool{}
	for _, n := range names {
		key := strings.ToLower(strings.TrimSpace(n))
		i := slices.Index(FieldNames, key)
		switch {
		case i < 0:
			msg := fmt.Sprintf("unknown column %s", quote(n))
			if s := suggest(key, FieldNames); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			problems = append(problems, msg)
		case seen[i]:
			problems = append(problems, fmt.Sprintf("column %s appears twice", key))
		}
		seen[i] = true
		lr.cols = append(lr.cols, i)
	}
	for _, r := range requiredFields {
		if !seen[slices.Index(FieldNames, r)] {
			problems = append(problems, "no "+r+" column")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("CSV header: %s; the header names the columns: vm,nic,direction,protocol,local,remote (nic optional), or write JSON objects, one per line", strings.Join(problems, "; "))
	}
	return nil
}

func (lr *LineReader) csvLine(line []byte) (Fields, error) {
	var f Fields
	if !utf8.Valid(line) {
		return f, errors.New("not valid UTF-8")
	}
	if bytes.IndexByte(line, '"') < 0 {
		// The common case, no quoting: fields are cut from the line without a copy.
		n := bytes.Count(line, []byte{','}) + 1
		if n != len(lr.cols) {
			return f, fmt.Errorf("%d fields; the header has %d columns", n, len(lr.cols))
		}
		for i := range n {
			v, rest, _ := bytes.Cut(line, []byte{','})
			*f.field(lr.cols[i]) = lr.str(bytes.TrimSpace(v))
			line = rest
		}
		return f, nil
	}
	vals, err := splitCSV(line)
	if err != nil {
		return f, err
	}
	if len(vals) != len(lr.cols) {
		return f, fmt.Errorf("%d fields; the header has %d columns", len(vals), len(lr.cols))
	}
	for i, v := range vals {
		*f.field(lr.cols[i]) = strings.TrimSpace(v)
	}
	return f, nil
}

func splitCSV(line []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(line))
	r.FieldsPerRecord = -1
	vals, err := r.Read()
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("CSV: %v", pe.Err)
	}
	return vals, err
}

// parseJSONLine reads one flat JSON object of string values. Lines are the batch's hot path,
// so this reads the object directly; string values with escapes are unquoted by encoding/json.
// str makes the strings (interned by the LineReader).
func parseJSONLine(line []byte, str func([]byte) string) (Fields, error) {
	var f Fields
	p := jsonScan{b: line, make: str}
	p.ws()
	if !p.eat('{') {
		return f, errors.New("not a JSON object")
	}
	var seen [6]bool
	p.ws()
	if p.eat('}') {
		return f, p.end()
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return f, fmt.Errorf("JSON: %v", err)
		}
		p.ws()
		if !p.eat(':') {
			return f, fmt.Errorf("JSON: expected ':' after %s", quote(key))
		}
		p.ws()
		i := slices.Index(FieldNames, key)
		if i < 0 {
			msg := fmt.Sprintf("unknown field %s", quote(key))
			if s := suggest(key, FieldNames); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			} else {
				msg += "; fields are vm, nic, direction, protocol, local and remote"
			}
			return f, errors.New(msg)
		}
		if seen[i] {
			return f, fmt.Errorf("field %s appears twice", key)
		}
		seen[i] = true
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return f, fmt.Errorf("%s: expected a string, got %s", key, p.describe())
		}
		v, err := p.str()
		if err != nil {
			return f, fmt.Errorf("JSON: %v", err)
		}
		*f.field(i) = v
		p.ws()
		if p.eat('}') {
			return f, p.end()
		}
		if !p.eat(',') {
			return f, errors.New("JSON: expected ',' or '}' after a value")
		}
	}
}

type jsonScan struct {
	b    []byte
	i    int
	make func([]byte) string
}

func (p *jsonScan) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}

func (p *jsonScan) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScan) end() error {
	p.ws()
	if p.i != len(p.b) {
		return errors.New("JSON: more after the object (one object per line)")
	}
	return nil
}

// str reads a JSON string.
func (p *jsonScan) str() (string, error) {
	if !p.eat('"') {
		return "", errors.New("expected a string in double quotes")
	}
	start, escaped := p.i, false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !escaped {
				if !utf8.Valid(raw) {
					return "", errors.New("a string is not valid UTF-8")
				}
				return p.make(raw), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return "", errors.New("a string has a bad escape")
			}
			return s, nil
		case c < 0x20:
			return "", errors.New("a control character in a string (write it escaped)")
		}
		p.i++
	}
	return "", errors.New("a string is not closed")
}

// describe names the JSON value at the cursor.
func (p *jsonScan) describe() string {
	if p.i >= len(p.b) {
		return "nothing"
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return "something else"
}
