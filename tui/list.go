package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// scroller is the one scrolling list of the UI, used by the VM list, the NIC cards, the chain
// and the rule tables: a cursor over n lines, of which some are selectable (rules, not layer
// headings; a NIC card's first line), and the window of lines on screen. It holds no lines:
// each screen draws only the lines of window, so lists of any length stay instant.
type scroller struct {
	n      int
	cursor int // a selectable line, or -1 when there is none
	offset int // first line on screen
	pageH  int // lines on screen at the last draw, for paging
	// selectable reports whether line i can hold the cursor; nil means every line.
	selectable func(i int) bool
}

func (s *scroller) ok(i int) bool {
	return i >= 0 && i < s.n && (s.selectable == nil || s.selectable(i))
}

// reset sets the number of lines and puts the cursor on the first selectable one.
func (s *scroller) reset(n int) {
	s.n, s.offset = n, 0
	s.cursor = s.next(-1, 1)
}

// next is the first selectable line after from in direction d (1 or -1), or from if none.
func (s *scroller) next(from, d int) int {
	for i := from + d; i >= 0 && i < s.n; i += d {
		if s.ok(i) {
			return i
		}
	}
	if s.ok(from) {
		return from
	}
	return -1
}

// set puts the cursor on line i, or the nearest selectable line after (else before) it.
func (s *scroller) set(i int) {
	i = min(max(i, 0), max(s.n-1, 0))
	if s.ok(i) {
		s.cursor = i
		return
	}
	if j := s.next(i, 1); j >= 0 && j != i {
		s.cursor = j
		return
	}
	s.cursor = s.next(i, -1)
}

// move handles the moving keys (up, down, page up and down, top, bottom) and reports whether
// msg was one of them.
func (s *scroller) move(msg tea.KeyPressMsg, k *KeyMap) bool {
	page := max(s.pageH-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		s.cursor = s.next(s.cursor, -1)
	case key.Matches(msg, k.Down):
		s.cursor = s.next(s.cursor, 1)
	case key.Matches(msg, k.PageUp):
		s.set(s.cursor - page)
	case key.Matches(msg, k.PageDown):
		s.set(s.cursor + page)
	case key.Matches(msg, k.Top):
		s.cursor = s.next(-1, 1)
		s.offset = 0
	case key.Matches(msg, k.Bottom):
		s.cursor = s.next(s.n, -1)
	default:
		return false
	}
	return true
}

// window returns the lines [start, end) to draw in h lines. It keeps the cursor on screen with
// the unselectable lines just above it (a layer's heading) and, when they fit, the ones just
// below it up to the next selectable line (the rest of a NIC card).
func (s *scroller) window(h int) (start, end int) {
	s.pageH = max(h, 0)
	if h <= 0 || s.n == 0 {
		return 0, 0
	}
	if s.cursor >= 0 {
		top := s.cursor
		for top > 0 && !s.ok(top-1) && s.cursor-top+1 < h {
			top--
		}
		bottom := s.cursor
		for bottom+1 < s.n && !s.ok(bottom+1) && bottom+1-top < h {
			bottom++
		}
		if top < s.offset {
			s.offset = top
		}
		if bottom >= s.offset+h {
			s.offset = bottom - h + 1
		}
		if s.cursor < s.offset {
			s.offset = s.cursor
		}
	}
	s.offset = min(max(s.offset, 0), max(s.n-h, 0))
	return s.offset, min(s.offset+h, s.n)
}

// position is "12–34 of 1,344" when the list does not fit on screen, else "".
func (s *scroller) position(start, end int) string {
	if start == 0 && end >= s.n {
		return ""
	}
	return itoa(start+1) + "–" + itoa(end) + " of " + itoa(s.n)
}

// scroll handles the moving keys for text without a cursor (selectable always false): they
// move the window itself. It reports whether msg was one of them.
func (s *scroller) scroll(msg tea.KeyPressMsg, k *KeyMap) bool {
	page := max(s.pageH-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		s.offset--
	case key.Matches(msg, k.Down):
		s.offset++
	case key.Matches(msg, k.PageUp):
		s.offset -= page
	case key.Matches(msg, k.PageDown):
		s.offset += page
	case key.Matches(msg, k.Top):
		s.offset = 0
	case key.Matches(msg, k.Bottom):
		s.offset = s.n
	default:
		return false
	}
	s.offset = min(max(s.offset, 0), max(s.n-s.pageH, 0))
	return true
}
