package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"ipflow/model"
)

// dupKeyErr is a key given twice in one JSON object. encoding/json keeps the last value and
// matches keys to fields case-insensitively, so "destinationPortRange": "443" followed by
// "DestinationPortRange": "*" would import as * while jq shows 443: the importer refuses to guess.
type dupKeyErr struct {
	off           int // just past the opening quote of the second key, as lineCol counts
	first, second string
	v1, v2        string
}

func (e *dupKeyErr) Error() string {
	as := ""
	if e.second != e.first {
		as = " as " + model.QuoteName(e.second)
	}
	return fmt.Sprintf("key %s is given twice in one object (%s, then %s%s); Azure never repeats a key, and ipflow will not guess which value is meant",
		model.QuoteName(e.first), cutValue(e.v1), cutValue(e.v2), as)
}

func cutValue(v string) string {
	if utf8.RuneCountInString(v) <= 40 {
		return model.Printable(v)
	}
	r := []rune(v)
	return model.Printable(string(r[:37])) + "…"
}

// findDupKey returns the first key given twice (exactly, or as encoding/json would match it: in
// another case) in one object of the JSON value at b[i:], or nil. It is lenient: on JSON it cannot
// follow it returns nil and leaves the error to the decoder.
func findDupKey(b []byte, i int) *dupKeyErr {
	s := dupScanners.Get().(*dupScanner)
	defer dupScanners.Put(s)
	d, _ := s.value(b, skipWS(b, i), 0)
	return d
}

// maxJSONDepth is encoding/json's own nesting limit.
const maxJSONDepth = 10000

var dupScanners = sync.Pool{New: func() any { return new(dupScanner) }}

// dupScanner reuses, per nesting level, the keys seen and the index of large objects, so that
// scanning allocates next to nothing.
type dupScanner struct {
	keys  [][]seenKey
	index []map[uint64]int
}

type seenKey struct {
	key []byte // as written (unescaped only when it has escapes)
	v   []byte
}

// foldHash hashes a key as encoding/json matches keys: case-insensitively (Unicode simple
// folding, so K and the Kelvin sign alike). Equal keys hash equally; a hash match is confirmed
// with bytes.EqualFold.
func foldHash(k []byte) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); {
		r, n := rune(k[i]), 1
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A' // an ASCII letter's fold orbit starts with its upper case (K, k, Kelvin sign)
		case r >= utf8.RuneSelf:
			r, n = utf8.DecodeRune(k[i:])
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				r = min(r, f) // the smallest rune of the fold orbit stands for all
			}
		}
		i += n
		h = (h ^ uint64(r)) * 1099511628211
	}
	return h
}

// value scans the value at b[i] and returns the index after it (-1 when it cannot follow).
func (s *dupScanner) value(b []byte, i, depth int) (*dupKeyErr, int) {
	if i >= len(b) || depth > maxJSONDepth {
		return nil, -1 // deeper than encoding/json decodes: the decoder reports it
	}
	switch b[i] {
	case '{':
		for len(s.keys) <= depth {
			s.keys = append(s.keys, nil)
			s.index = append(s.index, nil)
		}
		keys := s.keys[depth][:0]
		indexed := false
		defer func() { clear(keys); s.keys[depth] = keys[:0] }() // no references to b kept
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return nil, i + 1
		}
		for i < len(b) {
			if b[i] != '"' {
				return nil, -1
			}
			ks := i
			ke, err := skipString(b, i)
			if err != nil {
				return nil, -1
			}
			key := b[ks+1 : ke-1]
			if bytes.IndexByte(key, '\\') >= 0 {
				var k string
				if json.Unmarshal(b[ks:ke], &k) != nil {
					return nil, -1
				}
				key = []byte(k)
			}
			i = skipWS(b, ke)
			if i >= len(b) || b[i] != ':' {
				return nil, -1
			}
			vs := skipWS(b, i+1)
			dup, ve := s.value(b, vs, depth+1)
			if dup != nil || ve < 0 {
				return dup, ve
			}
			prev := -1
			if indexed {
				if p, ok := s.index[depth][foldHash(key)]; ok {
					prev = p
					if !bytes.EqualFold(keys[p].key, key) { // a hash collision: look at every key
						prev = slices.IndexFunc(keys, func(k seenKey) bool { return bytes.EqualFold(k.key, key) })
					}
				}
			} else {
				prev = slices.IndexFunc(keys, func(k seenKey) bool { return bytes.EqualFold(k.key, key) })
			}
			if prev >= 0 {
				return &dupKeyErr{off: ks + 1, first: string(keys[prev].key), second: string(key), v1: string(keys[prev].v), v2: string(b[vs:ve])}, -1
			}
			keys = append(keys, seenKey{key, b[vs:ve]})
			switch {
			case indexed:
				if _, ok := s.index[depth][foldHash(key)]; !ok {
					s.index[depth][foldHash(key)] = len(keys) - 1
				}
			case len(keys) > 8:
				if s.index[depth] == nil {
					s.index[depth] = make(map[uint64]int, 64)
				}
				clear(s.index[depth])
				for p := len(keys) - 1; p >= 0; p-- {
					s.index[depth][foldHash(keys[p].key)] = p
				}
				indexed = true
			}
			i = skipWS(b, ve)
			if i >= len(b) {
				return nil, -1
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case '}':
				return nil, i + 1
			default:
				return nil, -1
			}
		}
		return nil, -1
	case '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return nil, i + 1
		}
		for i < len(b) {
			dup, e := s.value(b, i, depth+1)
			if dup != nil || e < 0 {
				return dup, e
			}
			i = skipWS(b, e)
			if i >= len(b) {
				return nil, -1
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case ']':
				return nil, i + 1
			default:
				return nil, -1
			}
		}
		return nil, -1
	}
	e, err := skipValue(b, i)
	if err != nil {
		return nil, -1
	}
	return nil, e
}
