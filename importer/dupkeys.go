package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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
	d, _ := dupIn(b, skipWS(b, i))
	return d
}

// dupIn scans the value at b[i] and returns the index after it (-1 when it cannot follow).
func dupIn(b []byte, i int) (*dupKeyErr, int) {
	if i >= len(b) {
		return nil, -1
	}
	switch b[i] {
	case '{':
		type seen struct {
			fold, raw string
			v         []byte
		}
		var keys []seen
		var index map[string]int // once an object has many keys
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
			key := string(b[ks+1 : ke-1])
			if bytes.IndexByte(b[ks:ke], '\\') >= 0 {
				if json.Unmarshal(b[ks:ke], &key) != nil {
					return nil, -1
				}
			}
			i = skipWS(b, ke)
			if i >= len(b) || b[i] != ':' {
				return nil, -1
			}
			vs := skipWS(b, i+1)
			dup, ve := dupIn(b, vs)
			if dup != nil || ve < 0 {
				return dup, ve
			}
			fold := strings.ToLower(strings.ToUpper(key)) // as encoding/json folds (K and the Kelvin sign alike)
			prev := -1
			if index != nil {
				if p, ok := index[fold]; ok {
					prev = p
				}
			} else {
				for p := range keys {
					if keys[p].fold == fold {
						prev = p
						break
					}
				}
			}
			if prev >= 0 {
				return &dupKeyErr{off: ks + 1, first: keys[prev].raw, second: key, v1: string(keys[prev].v), v2: string(b[vs:ve])}, -1
			}
			keys = append(keys, seen{fold, key, b[vs:ve]})
			if index != nil {
				index[fold] = len(keys) - 1
			} else if len(keys) > 16 {
				index = make(map[string]int, 64)
				for p, k := range keys {
					index[k.fold] = p
				}
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
			dup, e := dupIn(b, i)
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
