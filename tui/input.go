package tui

import (
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// input is a one-line text field with the editing keys people expect (KeyMap's Left, Right,
// LineStart, LineEnd, WordLeft/Right, DeleteBack/Fwd/Word/ToStart/ToEnd) and a real terminal
// cursor. Entering a field selects its whole value, as a browser form does: the first typed
// character replaces it, a cursor key keeps it and edits in place. The fields here are short
// (an address, a port, a filter), so this is all the UI needs; bubbles' textinput would also
// pull in a clipboard module that shells out to X11 tools, useless over SSH.
type input struct {
	value       []rune
	pos         int
	limit       int // maximum runes; 0 is no limit. Longer input is refused whole, never cut.
	placeholder string
	focused     bool
	selected    bool // the whole value is selected: typing replaces it
	tooLong     bool // the last insert was refused: it would have passed the limit
	off         int  // first rune shown when the value is wider than the field
}

func (in *input) Value() string { return string(in.value) }

// SetValue replaces the text (control characters dropped) and puts the cursor at its end.
func (in *input) SetValue(s string) {
	in.value = in.value[:0]
	in.pos, in.off, in.selected, in.tooLong = 0, 0, false, false
	in.insert(s)
}

func (in *input) CursorEnd() { in.pos = len(in.value) }

// SelectAll selects the whole value (the cursor at its end), so typing replaces it.
func (in *input) SelectAll() {
	in.pos = len(in.value)
	in.selected = len(in.value) > 0
}

func (in *input) Focus() { in.focused = true }
func (in *input) Blur()  { in.focused, in.selected = false, false }

// insert puts text at the cursor, dropping control characters. Text that would pass the limit
// is refused whole and the field marked too long: never cut into another, valid, value.
func (in *input) insert(s string) {
	var add []rune
	for _, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			r = ' '
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar || !unicode.IsPrint(r) && r != ' ' {
			continue
		}
		add = append(add, r)
	}
	if len(add) == 0 {
		return
	}
	if in.limit > 0 && len(in.value)+len(add) > in.limit {
		in.tooLong = true
		return
	}
	v := make([]rune, 0, len(in.value)+len(add))
	v = append(v, in.value[:in.pos]...)
	v = append(v, add...)
	v = append(v, in.value[in.pos:]...)
	in.value = v
	in.pos += len(add)
}

// replaceSelection drops the selected value before typing or deleting.
func (in *input) replaceSelection() {
	if in.selected {
		in.value, in.pos, in.off, in.selected = in.value[:0], 0, 0, false
	}
}

// Update applies a key press or a paste; it reports whether the text changed.
func (in *input) Update(msg tea.Msg, k *KeyMap) bool {
	before := string(in.value)
	in.tooLong = false
	switch msg := msg.(type) {
	case tea.PasteMsg:
		in.replaceSelection()
		in.insert(msg.Content)
	case tea.KeyPressMsg:
		sel := in.selected
		in.selected = false
		switch {
		case key.Matches(msg, k.Left):
			if sel {
				in.pos = 0 // as a browser: ← collapses the selection to its start
			} else {
				in.pos = max(in.pos-1, 0)
			}
		case key.Matches(msg, k.Right):
			in.pos = min(in.pos+1, len(in.value))
		case key.Matches(msg, k.LineStart):
			in.pos = 0
		case key.Matches(msg, k.LineEnd):
			in.pos = len(in.value)
		case key.Matches(msg, k.WordLeft):
			in.pos = in.wordStart()
		case key.Matches(msg, k.WordRight):
			in.pos = in.wordEnd()
		case key.Matches(msg, k.DeleteBack):
			if sel {
				in.selected = true
				in.replaceSelection()
			} else if in.pos > 0 {
				in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
				in.pos--
			}
		case key.Matches(msg, k.DeleteFwd):
			if sel {
				in.selected = true
				in.replaceSelection()
			} else if in.pos < len(in.value) {
				in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
			}
		case key.Matches(msg, k.DeleteToStart):
			in.value = append([]rune(nil), in.value[in.pos:]...)
			in.pos = 0
		case key.Matches(msg, k.DeleteToEnd):
			in.value = in.value[:in.pos]
		case key.Matches(msg, k.DeleteWord):
			start := in.wordStart()
			in.value = append(in.value[:start], in.value[in.pos:]...)
			in.pos = start
		default:
			if msg.Text != "" && msg.Mod&^tea.ModShift == 0 {
				in.selected = sel
				in.replaceSelection()
				in.insert(msg.Text)
			} else {
				in.selected = sel // a key the field ignores keeps the selection
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
	if in.selected {
		ts = ts.Reverse(true) // the selection: what typing will replace
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
