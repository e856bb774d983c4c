package model

import "strings"

// Issue is one problem found while loading fixtures: where it is, which resource, and what is
// wrong (with what would be valid).
type Issue struct {
	Pos      Pos
	Resource string // e.g. `nsg "web-nic-nsg" rule "allow-https"`; empty for file-level problems
	Message  string
	Omitted  int // > 0: this issue only counts that many others of its file, by kind (see capIssues)
}

func (i Issue) String() string {
	var b strings.Builder
	if p := i.Pos.String(); p != "" {
		b.WriteString(Printable(p))
		b.WriteString(": ")
	}
	if i.Resource != "" {
		b.WriteString(i.Resource)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// LoadError is every error found in a set of fixtures.
type LoadError struct {
	Errors   []Issue
	Warnings []Issue
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, is := range e.Errors {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}
