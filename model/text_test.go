package model

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// hostile holds one rune of every class that must never reach an output raw.
var hostile = []string{"\x00", "\x07", "\x1b[2J", "\x1b]52;c;aGk=\x07", "\x7f", "\u0085", "\u009b31m", "\u200e", "\u200f",
	"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\ufeff", "\U000e0001", "\xff"}

// rawEscaped returns the first rune of s that mustEscape, if any.
func rawEscaped(s string) (rune, bool) {
	for _, r := range s {
		if mustEscape(r) {
			return r, true
		}
	}
	return 0, false
}

func TestEscapingEveryOutput(t *testing.T) {
	for _, h := range hostile {
		s := `a "b" \ ` + h + " é"
		if r, bad := rawEscaped(Printable(s)); bad {
			t.Errorf("Printable(%q) keeps %U raw", s, r)
		}
		if !strings.Contains(Printable(s), "é") || Printable("plain é text") != "plain é text" {
			t.Errorf("Printable escapes printable text: %q", Printable(s))
		}
		tm := string(AppendTOMLString([]byte("k = "), s))
		if r, bad := rawEscaped(tm); bad {
			t.Errorf("TOML %q keeps %U raw", tm, r)
		}
		var got struct{ K string }
		if _, err := toml.Decode(tm, &got); err != nil {
			t.Errorf("TOML %q does not decode: %v", tm, err)
		} else if want := strings.ToValidUTF8(s, "\uFFFD"); got.K != want {
			t.Errorf("TOML round trip: %q, want %q", got.K, want)
		}
		js, _ := json.Marshal(map[string]string{"k": s})
		js = EscapeJSON(js)
		if r, bad := rawEscaped(string(js)); bad {
			t.Errorf("JSON %s keeps %U raw", js, r)
		}
		var back map[string]string
		if err := json.Unmarshal(js, &back); err != nil || back["k"] != strings.ToValidUTF8(s, "\uFFFD") {
			t.Errorf("JSON round trip: %q, %v", back["k"], err)
		}
	}
	// Indented JSON keeps its layout: only runes inside strings change.
	js, _ := json.MarshalIndent(map[string]string{"k": "\u202e"}, "", "  ")
	if got := string(EscapeJSON(js)); got != "{\n  \"k\": \"\\u202e\"\n}" {
		t.Errorf("indented: %q", got)
	}
	if !utf8.ValidString(Printable("\xff")) {
		t.Error("Printable writes invalid UTF-8")
	}
}
