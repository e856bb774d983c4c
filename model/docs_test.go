package model

import (
	"os"
	"strings"
	"testing"
)

// TestFixtureFormatDoc: every TOML example in docs/fixture-format.md is valid TOML, and the
// complete example (the last one) loads without errors or warnings.
func TestFixtureFormatDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/fixture-format.md")
	if err != nil {
		t.Skip("docs/fixture-format.md not found:", err)
	}
	var blocks []string
	for _, part := range strings.Split(string(doc), "```toml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, dedent(block))
	}
	if len(blocks) < 5 {
		t.Fatalf("found %d TOML examples", len(blocks))
	}
	for i, b := range blocks {
		if _, err := decodeTOML(b); err != nil {
			t.Errorf("example %d is not valid TOML: %v\n%s", i+1, err, b)
		}
	}
	env, err := Load(Source{Name: "example.toml", Data: []byte(blocks[len(blocks)-1])})
	if err != nil {
		t.Fatalf("complete example: %v", err)
	}
	if len(env.Warnings) != 0 {
		t.Errorf("complete example warnings: %v", env.Warnings)
	}
}

// dedent removes the indentation of Markdown list items from a code block.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent && indent > 0 {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}
