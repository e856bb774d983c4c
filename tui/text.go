package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"ipflow/model"
)

// safe makes a name from a fixture safe to draw: control characters and escape sequences are
// shown escaped (\x1b, \n), never sent to the terminal raw.
func safe(s string) string { return model.Printable(s) }

// width is the number of terminal cells s takes (escape codes do not count).
func width(s string) int { return ansi.StringWidth(s) }

// trunc cuts s to at most w cells, ending in … when it had to cut. It keeps styles intact.
func trunc(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// fit truncates or pads s to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = trunc(s, w)
	if n := width(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// fitLeft is fit aligned right (for numbers).
func fitLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = trunc(s, w)
	if n := width(s); n < w {
		s = strings.Repeat(" ", w-n) + s
	}
	return s
}

// truncLeft keeps the last w cells of s, starting with … when it had to cut.
func truncLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := width(s)
	if n <= w {
		return s
	}
	if w == 1 {
		return "…"
	}
	return "…" + ansi.TruncateLeft(s, n-w+1, "")
}

// wrap breaks plain text into lines of at most w cells, at spaces where it can, and indents
// every line after the first by indent spaces.
func wrap(s string, w, indent int) []string {
	if w <= 0 {
		return nil
	}
	if width(s) <= w {
		return []string{s}
	}
	first := ansi.Wrap(s, w, "")
	lines := strings.Split(first, "\n")
	if indent <= 0 || indent >= w || len(lines) == 1 {
		return trimRight(lines)
	}
	rest := strings.TrimLeft(strings.Join(lines[1:], " "), " ")
	out := []string{lines[0]}
	for _, l := range strings.Split(ansi.Wrap(rest, w-indent, ""), "\n") {
		out = append(out, strings.Repeat(" ", indent)+l)
	}
	return trimRight(out)
}

func trimRight(lines []string) []string {
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// block pads lines to exactly h lines (dropping any beyond h).
func block(lines []string, h int) []string {
	if len(lines) > h {
		return lines[:max(h, 0)]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return lines
}

// plural is "1 VM", "2 VMs".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

func itoa(n int) string { return strconv.Itoa(n) }
