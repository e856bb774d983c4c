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

// wrap breaks text into lines of at most w cells at spaces (a word longer than a line is cut
// into pieces, never dropped), and indents every line after the first by indent spaces.
func wrap(s string, w, indent int) []string {
	if w <= 0 {
		return nil
	}
	if width(s) <= w {
		return []string{s}
	}
	if indent >= w {
		indent = 0
	}
	var out []string
	line, lineW := "", 0
	limit := w
	flush := func() {
		out = append(out, line)
		line, lineW = strings.Repeat(" ", indent), indent
		limit = w
	}
	for _, word := range strings.Split(s, " ") {
		ww := width(word)
		if lineW > indent || (len(out) == 0 && lineW > 0) {
			if lineW+1+ww <= limit {
				line += " " + word
				lineW += 1 + ww
				continue
			}
			flush()
		}
		for ww > limit-lineW && limit-lineW > 0 && ww > 0 {
			// Longer than a whole line: cut it.
			piece := ansi.Truncate(word, limit-lineW, "")
			line += piece
			word = ansi.TruncateLeft(word, width(piece), "")
			ww = width(word)
			flush()
		}
		line += word
		lineW += ww
	}
	if strings.TrimSpace(ansi.Strip(line)) != "" || len(out) == 0 {
		out = append(out, line)
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
