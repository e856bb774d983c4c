package tui

import (
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// input is a one-line text field with the editing keys people expect (←/→, home/end, ctrl+a/e,
// backspace/delete, ctrl+u/k/w, alt+backspace) and a real terminal cursor. The fields here are
// short (an address, a port, a filter), so this is all the UI needs; bubbles' textinput would
// also pull in a clipboard module that shells out to X11 tools, useless over SSH.
type input struct {
	value       []rune
	pos         int
	limit       int // maximum runes; 0 is no limit
	placeholder string
	focused     bool
	off         int // first rune shown when the value is wider than the field
}

func (in *input) Value() string { return string(in.value) }

// SetValue replaces the text (control characters dropped) and puts the cursor at its end.
func (in *input) SetValue(s string) {
	in.value = in.value[:0]
	in.pos, in.off = 0, 0
	in.insert(s)
}

func (in *input) CursorEnd() { in.pos = len(in.value) }

func (in *input) Focus() { in.focused = true }
func (in *input) Blur()  { in.focused = false }

// insert puts text at the cursor, dropping control characters and stopping at the limit.
func (in *input) insert(s string) {
	var add []rune
	for _, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			r = ' '
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar || !unicode.IsPrint(r) && r != ' ' {
			continue
		}
		if in.limit > 0 && len(in.value)+len(add) >= in.limit {
			break
		}
		add = append(add, r)
	}
	if len(add) == 0 {
		return
	}
	v := make([]rune, 0, len(in.value)+len(add))
	v = append(v, in.value[:in.pos]...)
	v = append(v, add...)
	v = append(v, in.value[in.pos:]...)
	in.value = v
	in.pos += len(add)
}

// Update applies a key press or a paste; it reports whether the text changed.
func (in *input) Update(msg tea.Msg) bool {
	before := string(in.value)
	switch msg := msg.(type) {
	case tea.PasteMsg:
		in.insert(msg.Content)
	case tea.KeyPressMsg:
		switch msg.String() {
		case "left", "ctrl+b":
			in.pos = max(in.pos-1, 0)
		case "right", "ctrl+f":
			in.pos = min(in.pos+1, len(in.value))
		case "home", "ctrl+a":
			in.pos = 0
		case "end", "ctrl+e":
			in.pos = len(in.value)
		case "alt+left", "ctrl+left", "alt+b":
			in.pos = in.wordStart()
		case "alt+right", "ctrl+right", "alt+f":
			in.pos = in.wordEnd()
		case "backspace", "ctrl+h":
			if in.pos > 0 {
				in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
				in.pos--
			}
		case "delete", "ctrl+d":
			if in.pos < len(in.value) {
				in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
			}
		case "ctrl+u":
			in.value = append([]rune(nil), in.value[in.pos:]...)
			in.pos = 0
		case "ctrl+k":
			in.value = in.value[:in.pos]
		case "ctrl+w", "alt+backspace", "ctrl+backspace":
			start := in.wordStart()
			in.value = append(in.value[:start], in.value[in.pos:]...)
			in.pos = start
		default:
			if msg.Text != "" && msg.Mod&^tea.ModShift == 0 {
				in.insert(msg.Text)
			}
		}
	}
	return string(in.value) != before
}

func isWordSep(r rune) bool { return r == ' ' || r == '.' || r == ':' || r == '/' || r == '-' }

func (in *input) wordStart() int {
	i := in.pos
	for i > 0 && isWordSep(in.value[i-1]) {
		i--
	}
	for i > 0 && !isWordSep(in.value[i-1]) {
		i--
	}
	return i
}

func (in *input) wordEnd() int {
	i := in.pos
	for i < len(in.value) && isWordSep(in.value[i]) {
		i++
	}
	for i < len(in.value) && !isWordSep(in.value[i]) {
		i++
	}
	return i
}

// View draws the field in w cells with text style ts (the placeholder in ps when empty) and
// returns the cursor's column within it.
func (in *input) View(w int, ts, ps lipgloss.Style) (string, int) {
	if w <= 0 {
		return "", 0
	}
	if len(in.value) == 0 {
		if in.placeholder == "" {
			return "", 0
		}
		return ps.Render(trunc(in.placeholder, w)), 0
	}
	// Scroll so the cursor (one cell after the last rune at the end) stays visible.
	in.off = min(in.off, in.pos)
	for in.off < in.pos && runesWidth(in.value[in.off:in.pos]) >= w {
		in.off++
	}
	var b strings.Builder
	used := 0
	for _, r := range in.value[in.off:] {
		rw := ansi.StringWidth(string(r))
		if used+rw > w {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	return ts.Render(b.String()), runesWidth(in.value[in.off:in.pos])
}

func runesWidth(rs []rune) int { return ansi.StringWidth(string(rs)) }
