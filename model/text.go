package model

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The one rule for every output (terminal text, JSON, TOML): a rune for which mustEscape is true
// never reaches it raw. Names, paths and values come from fixtures, exports and file systems that
// other people control; raw, these runes could drive a terminal (C0 and C1 controls, DEL: escape
// sequences, OSC 52 clipboard writes) or make text read other than it is (the bidi controls).
// Printable escapes for text, AppendTOMLString for TOML and EscapeJSON for JSON.

// mustEscape reports whether r may never be written raw: C0 controls, DEL, C1 controls, the bidi
// controls (U+200E/F, U+202A-E, U+2066-9), the line and paragraph separators, invalid UTF-8
// (utf8.RuneError) and every other rune that is not printable.
func mustEscape(r rune) bool {
	switch {
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return true
	case r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return true
	case r == 0x2028 || r == 0x2029 || r == utf8.RuneError:
		return true
	}
	return !unicode.IsPrint(r) && r != ' '
}

// needsEscape reports whether s holds a rune that mustEscape.
func needsEscape(s string) bool {
	for _, r := range s {
		if mustEscape(r) {
			return true
		}
	}
	return false
}

// Printable returns s with control characters, escape sequences, bidi controls and other
// unprintable runes escaped (Go style: \x1b, \u202e, and then \\ and \" too), so that a name from a
// fixture can never drive the terminal it is shown on. Text without such runes is returned
// unchanged.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' || r == '"':
			b.WriteByte('\\') // escaped text is unambiguous: a backslash starts an escape
			b.WriteRune(r)
		case !mustEscape(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\u202e', '\n'
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// AppendTOMLString appends s as a TOML basic string: quotes and backslashes escaped, and every
// rune that mustEscape written as \uXXXX (invalid UTF-8 as \uFFFD, which TOML cannot hold raw).
func AppendTOMLString(b []byte, s string) []byte {
	b = append(b, '"')
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r > 0xffff && mustEscape(r):
			b = fmt.Appendf(b, "\\U%08X", r)
		case mustEscape(r):
			b = fmt.Appendf(b, "\\u%04X", r)
		default:
			b = append(b, s[i:i+n]...)
		}
	}
	return append(b, '"')
}

// EscapeJSON rewrites JSON text (as encoding/json writes it) so that no rune that mustEscape
// appears raw: encoding/json escapes C0 controls and the line separators, but leaves DEL, C1
// controls and the bidi controls as they are. Outside strings JSON text is ASCII, so every such
// rune is inside a string and becomes a \u escape there (a surrogate pair above U+FFFF).
func EscapeJSON(js []byte) []byte {
	clean := true
	for i := 0; i < len(js); i++ {
		if c := js[i]; c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean || !needsEscape(string(js)) {
		return js
	}
	out := make([]byte, 0, len(js)+64)
	for i, w := 0, 0; i < len(js); i += w {
		r, n := utf8.DecodeRune(js[i:])
		w = n
		switch {
		case !mustEscape(r) || r < 0x20:
			out = append(out, js[i:i+n]...)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, "\\u%04x\\u%04x", hi, lo)
		default:
			out = fmt.Appendf(out, "\\u%04x", r)
		}
	}
	return out
}

// maxShown is how many characters of a name a message shows in full: about a screen line, and
// more than any Azure name has (80), so that a name one character too long is still shown whole.
const maxShown = 100

// QuoteName quotes a name from a fixture for a message (as strconv.Quote does), cut to its first
// characters, with its length, when it is longer than a screen line: "aaaa…" (1,048,576
// characters). A name is never echoed in full at any length.
func QuoteName(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	n := utf8.RuneCountInString(s)
	if n <= maxShown {
		return strconv.Quote(s)
	}
	end, k := 0, 0
	for end < len(s) && k < maxShown/2 {
		_, w := utf8.DecodeRuneInString(s[end:])
		end, k = end+w, k+1
	}
	return strconv.Quote(s[:end]+"…") + " (" + formatCount(n) + " characters)"
}

// cutLongQuotes cuts every Go-quoted string in msg that is longer than a screen line, as
// QuoteName does: a message may quote a name with %q.
func cutLongQuotes(msg string) string {
	if len(msg) <= maxShown {
		return msg
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(msg); i++ {
		if msg[i] != '"' {
			continue
		}
		q, err := strconv.QuotedPrefix(msg[i:])
		if err != nil {
			continue
		}
		if len(q) > maxShown+2 {
			if s, err := strconv.Unquote(q); err == nil && utf8.RuneCountInString(s) > maxShown {
				b.WriteString(msg[last:i])
				b.WriteString(QuoteName(s))
				last = i + len(q)
			}
		}
		i += len(q) - 1
	}
	if last == 0 {
		return msg
	}
	b.WriteString(msg[last:])
	return b.String()
}

// Suggest returns the candidate closest to name (case-insensitively), if it is close enough
// to be a likely typo; otherwise "".
//
// Its cost is bounded whatever the input: names longer than maxSuggestLen get no suggestion, and a
// candidate whose length differs from name's by more than the allowed distance is skipped without
// comparing, so each call is linear in the number of candidates plus at most
// maxSuggestLen² work per candidate of a similar length.
func Suggest(name string, candidates []string) string {
	n := utf8.RuneCountInString(name)
	if n > maxSuggestLen {
		return ""
	}
	limit := max(1, min(3, n/3))
	best, bestD := "", -1
	ln := strings.ToLower(name)
	for _, c := range candidates {
		if len(c) > 4*(maxSuggestLen+limit) { // more bytes than any close name can have
			continue
		}
		if m := utf8.RuneCountInString(c); m < n-limit || m > n+limit {
			continue
		}
		d := distance(ln, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD >= 0 && bestD <= limit {
		return best
	}
	return ""
}

// maxSuggestLen is the longest name "did you mean" is looked for: Azure names are at most 80
// characters.
const maxSuggestLen = 100

// distance is the optimal string alignment distance between a and b: the Levenshtein distance
// where swapping two adjacent characters (the commonest typo) also counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
