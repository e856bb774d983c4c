package model

import "testing"

func TestIndexLines(t *testing.T) {
	text := `# comment [[not.a.header]]
top = 1
[environment]   # trailing comment
name = "x" # [[nsg]]
description = """
[[nsg]]
name = "inside a multi-line string"
"""

[[nsg]]
name = 'a'
  [[nsg.rule]]
  name = "r1"
  "quoted key" = 1
  dotted.key = 2

  [[ nsg . rule ]]
  name = "r2"
  destination_ports = [
    "80",   # comment ]
    '443',
  ]
  priority = 100

[[nsg]]
name = "b"
rule = [
  { name = "i1", priority = 100 },
  { name = "i2",
    priority = 200 },
]
[[vm]]
nic = [{ name = "n", ip_config = [{ name = "c" }] }]
lit = '''
[[vm]]
'''
after = true
`
	root := indexLines(text)
	check := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: line %d, want %d", what, got, want)
		}
	}
	check("top", root.keyLine("top"), 2)
	env := root.kid("environment", 0)
	check("[environment]", env.line, 3)
	check("environment.name", env.keyLine("name"), 4)
	check("environment.description", env.keyLine("description"), 5)
	if root.kid("nsg", 2) != nil {
		t.Errorf("a header inside a multi-line string was indexed")
	}
	n0 := root.kid("nsg", 0)
	check("nsg 0", n0.line, 10)
	check("nsg 0 name", n0.keyLine("name"), 11)
	r1, r2 := n0.kid("rule", 0), n0.kid("rule", 1)
	check("rule 1", r1.line, 12)
	check("quoted key", r1.keyLine("quoted key"), 14)
	check("dotted key", r1.keyLine("dotted"), 15)
	check("dotted sub-key", r1.kid("dotted", 0).keyLine("key"), 15)
	check("rule 2 (spaced header)", r2.line, 17)
	check("rule 2 ports", r2.keyLine("destination_ports"), 19)
	check("rule 2 priority (after a multi-line array)", r2.keyLine("priority"), 23)
	n1 := root.kid("nsg", 1)
	check("inline rule 1", n1.kid("rule", 0).line, 28)
	check("inline rule 2", n1.kid("rule", 1).line, 29)
	check("inline rule 2 priority (TOML 1.1 multi-line inline table)", n1.kid("rule", 1).keyLine("priority"), 30)
	vm := root.kid("vm", 0)
	check("vm", vm.line, 32)
	check("inline nic", vm.kid("nic", 0).line, 33)
	check("inline ip_config", vm.kid("nic", 0).kid("ip_config", 0).line, 33)
	check("after a literal multi-line string", vm.keyLine("after"), 37)
	if root.kid("vm", 1) != nil {
		t.Errorf("a header inside a literal multi-line string was indexed")
	}
	if _, err := decodeTOML(text); err != nil {
		t.Fatalf("test text is not valid TOML: %v", err)
	}
}

// The scanner must not hang or panic on text it does not understand.
func TestIndexLinesGarbage(t *testing.T) {
	for _, s := range []string{"", "[", "[[", "a", "a =", "a = [", "a = {", "a = \"", "a = '''", "a = \"\"\"\\", "\"", "[a.\"b", "= 1", "a = [{", "a.b.c", "x = [1,,]"} {
		scanAll(indexLines(s))
	}
}

func TestIndexLinesOnDemand(t *testing.T) {
	text := "[a.b]\nx = 1\n\n[a]\ny = 2\nc.d = 3\ne = { f.g = 4,\n  h = 5 }\n"
	if _, err := decodeTOML(text); err != nil {
		t.Fatal(err)
	}
	root := indexLines(text)
	a := root.kid("a", 0)
	// A table made by a dotted key, asked before its owner.
	if got := a.kid("c", 0).keyLine("d"); got != 6 {
		t.Errorf("c.d: line %d, want 6", got)
	}
	if got := a.keyLine("y"); got != 5 || a.line != 4 {
		t.Errorf("[a] made explicit after [a.b]: y at %d, header at %d", got, a.line)
	}
	if got := a.kid("b", 0).keyLine("x"); got != 2 {
		t.Errorf("a.b.x: line %d, want 2", got)
	}
	e := a.kid("e", 0)
	if got := e.kid("f", 0).keyLine("g"); got != 7 {
		t.Errorf("e.f.g: line %d, want 7", got)
	}
	if got := e.keyLine("h"); got != 8 {
		t.Errorf("e.h: line %d, want 8", got)
	}
}
