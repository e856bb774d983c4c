package tui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding of the UI: every key a screen handles is matched here with
// key.Matches, and the help line is generated from the same bindings, so what the help says
// is what the keys do. Bindings are grouped by where they work.
type KeyMap struct {
	// Everywhere.
	Help  key.Binding // ?
	Quit  key.Binding // q, except while typing
	Force key.Binding // ctrl+c, always
	Back  key.Binding // esc: back one screen (never quits)
	// BackTwice is two quick escs, which reach a program as one alt+esc: back twice.
	BackTwice key.Binding
	Warnings  key.Binding // w: the fixture warnings
	Full      key.Binding // i: the selected step or rule, or a long status, in full (pager.go)

	// Moving in every list (the one scroller).
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Select                                  key.Binding // enter: open

	// Text fields: the filter, the search and the form.
	ArrowNav                          key.Binding // ↑/↓/pgup/pgdn move the list while typing a filter
	Keep                              key.Binding // enter while typing a filter or a search
	Clear                             key.Binding // esc while typing a filter or a search
	Left, Right, LineStart, LineEnd   key.Binding
	WordLeft, WordRight               key.Binding
	DeleteBack, DeleteFwd, DeleteWord key.Binding
	DeleteToStart, DeleteToEnd        key.Binding
	Filter                            key.Binding // / on the VM list: a new query
	Search                            key.Binding // / in the chain and tables

	// The flow form.
	NextField, PrevField    key.Binding
	CycleNext, CyclePrev    key.Binding // on a choice
	Inbound, Outbound       key.Binding // on Direction
	TCP, UDP, ICMP, ESP, AH key.Binding // on Protocol
	PortField               key.Binding // : in an address jumps to its port
	Check                   key.Binding // enter: run the check
	FormQuit                key.Binding // ctrl+c, shown where q types

	// NIC screen.
	Effective key.Binding // r: the NIC's effective security rules

	// Verdict.
	NextStep, PrevStep   key.Binding
	Deciding             key.Binding // d/enter: the deciding rule
	NextMatch, PrevMatch key.Binding // n/N while a search is active
	NextLayer, PrevLayer key.Binding // ] [
	NotEvaluated         key.Binding // x: hide/show rules not evaluated
	Table                key.Binding // r: the rule's whole NSG
	Edit                 key.Binding // e: back to the form
	Copy                 key.Binding // y: the summary
	CopyCmd              key.Binding // c: the command lines

	// The what-if sandbox (sandbox.go).
	Suggest key.Binding // f on a verdict: the changes that reverse it
	Undo    key.Binding // u: undo the last what-if change
	Changes key.Binding // v: the what-if's changes
	Export  key.Binding // x in the changes view: write the change set, copy the az commands
	// On an NSG's rule table: hand edits in the what-if (ruleedit.go).
	AddRule, EditRule, DeleteRule key.Binding

	// Rule tables.
	Expand key.Binding // enter/space: expand the rule's tags and ASGs

	// Whole-estate analysis: reach (NIC screen), matrix and lint (VM list).
	Reach, Matrix, Lint key.Binding
	QueryDirection      key.Binding // tab: inbound ↔ outbound
	QueryProtocol       key.Binding // t: the next protocol
	QueryPort           key.Binding // : edit the port
	CellLeft, CellRight key.Binding // ←/→ in the matrix
}

// DefaultKeyMap is the UI's keys: arrows and vi keys, / filters or searches, esc goes back,
// ? toggles help, q quits except while typing, ctrl+c always quits.
func DefaultKeyMap() *KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return &KeyMap{
		Help:      b([]string{"?"}, "?", "help"),
		Quit:      b([]string{"q"}, "q", "quit"),
		Force:     b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Back:      b([]string{"esc"}, "esc", "back"),
		BackTwice: b([]string{"alt+esc"}, "esc esc", "back twice"),
		Warnings:  b([]string{"w"}, "w", "warnings"),
		Full:      b([]string{"i"}, "i", "in full"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+u", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d", "ctrl+f", "space"}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g/home", "top"),
		Bottom:   b([]string{"end", "G"}, "G/end", "bottom"),
		Select:   b([]string{"enter"}, "enter", "open"),

		ArrowNav:      b([]string{"up", "down", "pgup", "pgdown"}, "↑/↓", "move"),
		Keep:          b([]string{"enter"}, "enter", "keep"),
		Clear:         b([]string{"esc"}, "esc", "clear"),
		Left:          b([]string{"left", "ctrl+b"}, "←", "cursor left"),
		Right:         b([]string{"right", "ctrl+f"}, "→", "cursor right"),
		LineStart:     b([]string{"home", "ctrl+a"}, "home", "start"),
		LineEnd:       b([]string{"end", "ctrl+e"}, "end", "end"),
		WordLeft:      b([]string{"alt+left", "ctrl+left", "alt+b"}, "alt+←", "word left"),
		WordRight:     b([]string{"alt+right", "ctrl+right", "alt+f"}, "alt+→", "word right"),
		DeleteBack:    b([]string{"backspace", "ctrl+h"}, "⌫", "delete"),
		DeleteFwd:     b([]string{"delete", "ctrl+d"}, "del", "delete forward"),
		DeleteWord:    b([]string{"ctrl+w", "alt+backspace", "ctrl+backspace"}, "ctrl+w", "delete word"),
		DeleteToStart: b([]string{"ctrl+u"}, "ctrl+u", "delete to start"),
		DeleteToEnd:   b([]string{"ctrl+k"}, "ctrl+k", "delete to end"),
		Filter:        b([]string{"/"}, "/", "filter"),
		Search:        b([]string{"/"}, "/", "search"),

		NextField: b([]string{"tab", "down"}, "tab/↓", "next"),
		PrevField: b([]string{"shift+tab", "up"}, "⇧tab/↑", "previous"),
		CycleNext: b([]string{"right", "space"}, "→", "change"),
		CyclePrev: b([]string{"left"}, "←", "change back"),
		Inbound:   b([]string{"i", "I"}, "i", "inbound"),
		Outbound:  b([]string{"o", "O"}, "o", "outbound"),
		TCP:       b([]string{"t", "T"}, "t", "TCP"),
		UDP:       b([]string{"u", "U"}, "u", "UDP"),
		ICMP:      b([]string{"i", "I"}, "i", "ICMP"),
		ESP:       b([]string{"e", "E"}, "e", "ESP"),
		AH:        b([]string{"a", "A"}, "a", "AH"),
		PortField: b([]string{":"}, ":", "IP → its port field"),
		Check:     b([]string{"enter"}, "enter", "check"),
		FormQuit:  b([]string{"ctrl+c"}, "ctrl+c", "quit"),

		Effective: b([]string{"r"}, "r", "effective rules"),

		NextStep:     b([]string{"n", "right", "l"}, "n/→", "next step"),
		PrevStep:     b([]string{"p", "left", "h"}, "p/←", "prev step"),
		Deciding:     b([]string{"d", "enter"}, "d/enter", "deciding rule"),
		NextMatch:    b([]string{"n"}, "n", "next match"),
		PrevMatch:    b([]string{"N"}, "N", "previous match"),
		NextLayer:    b([]string{"]"}, "]", "next layer"),
		PrevLayer:    b([]string{"["}, "[", "previous layer"),
		NotEvaluated: b([]string{"x"}, "x", "hide/show not evaluated"),
		Table:        b([]string{"r"}, "r", "NSG rule table"),
		Edit:         b([]string{"e"}, "e/esc", "edit"),
		Copy:         b([]string{"y"}, "y", "copy summary"),
		CopyCmd:      b([]string{"c"}, "c", "copy commands"),

		Suggest: b([]string{"f"}, "f", "fix it: suggest changes"),
		Undo:    b([]string{"u"}, "u", "undo what-if change"),
		Changes: b([]string{"v"}, "v", "what-if changes"),
		Export:  b([]string{"x"}, "x", "export change set"),

		AddRule:    b([]string{"a"}, "a", "add rule (what-if)"),
		EditRule:   b([]string{"e"}, "e", "edit rule (what-if)"),
		DeleteRule: b([]string{"D"}, "D", "delete rule (what-if)"),

		Expand: b([]string{"enter", "space"}, "enter", "expand tags/ASGs"),

		Reach:          b([]string{"a"}, "a", "who can reach it"),
		Matrix:         b([]string{"m"}, "m", "VM × VM matrix"),
		Lint:           b([]string{"L"}, "L", "lint findings"),
		QueryDirection: b([]string{"tab"}, "tab", "inbound/outbound"),
		QueryProtocol:  b([]string{"t"}, "t", "protocol"),
		QueryPort:      b([]string{":"}, ":", "port"),
		CellLeft:       b([]string{"left", "h"}, "←/h", "column left"),
		CellRight:      b([]string{"right", "l"}, "→/l", "column right"),
	}
}

// with returns a copy of b with other help text: the same keys, described for one screen.
func with(b key.Binding, keys, desc string) key.Binding {
	b.SetHelp(keys, desc)
	return b
}

// helpMap is a help.KeyMap built from bindings.
type helpMap struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpMap) ShortHelp() []key.Binding  { return h.short }
func (h helpMap) FullHelp() [][]key.Binding { return h.full }
