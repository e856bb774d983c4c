package tomlw

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestWriterOutputDecodes: what the writer writes is TOML that decodes to what was written, with
// hostile strings escaped, long lists wrapped and comments kept on one line.
func TestWriterOutputDecodes(t *testing.T) {
	w := New(0)
	w.Comment("", "from \x1b[2J\u202eevil\nfile.json")
	w.Line("", "[t]")
	w.Str("", "s", "a \"b\" \\ \u009b\u202e\x00")
	w.Bool("", "b", true)
	w.Int("", "i", -7)
	long := make([]string, 40)
	for i := range long {
		long[i] = strings.Repeat("x", i%7) + "\u2066"
	}
	w.List("", "l", long)
	w.StrOrList("", "one", []string{"only"})
	text := string(w.Bytes())
	if strings.Count(text, "\n") < 8 || strings.ContainsAny(text, "\x1b\u202e\u009b\u2066\x00") {
		t.Fatalf("raw or unwrapped:\n%s", text)
	}
	var got struct {
		T struct {
			S   string
			B   bool
			I   int
			L   []string
			One string
		}
	}
	if _, err := toml.Decode(text, &got); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if got.T.S != "a \"b\" \\ \u009b\u202e\x00" || !got.T.B || got.T.I != -7 || len(got.T.L) != 40 || got.T.L[39] != long[39] || got.T.One != "only" {
		t.Errorf("decoded %+v", got.T)
	}
}
