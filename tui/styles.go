package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles are every style the UI draws with. They are built from the terminal's background
// (dark or light); meaning never rests on colour alone: every coloured element also carries a
// word or a symbol (✓ ✗ ▶ ·, ALLOW/DENY) or reverse/bold, which NO_COLOR keeps.
type Styles struct {
	App       lipgloss.Style // "ipflow" in the header
	Crumb     lipgloss.Style // breadcrumb segments
	CrumbLast lipgloss.Style // the current screen
	Title     lipgloss.Style // a screen's title line
	Header    lipgloss.Style // table column headers
	Dim       lipgloss.Style // secondary text
	Faint     lipgloss.Style // not evaluated, placeholders
	Selected  lipgloss.Style // the cursor row
	Match     lipgloss.Style // the part of a name that matches the filter

	Warn lipgloss.Style // deallocated, notes
	Err  lipgloss.Style // invalid input, engine errors
	OK   lipgloss.Style // valid input

	AllowBanner lipgloss.Style // ✓ Access allowed
	DenyBanner  lipgloss.Style // ✗ Access denied
	Allow       lipgloss.Style // the word Allow in a rule row
	Deny        lipgloss.Style // the word Deny in a rule row
	Deciding    lipgloss.Style // the deciding rule's row when it allows: reverse and bold, with a ▶ marker
	DecidingDen lipgloss.Style // the same when it denies
	Matched     lipgloss.Style // a rule that matched in a layer that did not decide
	Pass        lipgloss.Style // ✓ of a check
	Fail        lipgloss.Style // ✗ of a check
	Layer       lipgloss.Style // a layer's heading in the chain
	Label       lipgloss.Style // form labels, banner labels
	Focus       lipgloss.Style // the focused form label
	Choice      lipgloss.Style // the value of a choice field

	Status    lipgloss.Style
	StatusErr lipgloss.Style
	WhatIf    lipgloss.Style // the header's WHAT-IF mark: on no other screen element
	Help      help.Styles
}

// Background is what the UI knows of the terminal's background.
type Background uint8

const (
	// UnknownBackground is the start, before (or without) the terminal's answer: mid-tone
	// colours that keep their contrast on black and on white alike.
	UnknownBackground Background = iota
	DarkBackground
	LightBackground
)

// palette is the handful of colours the styles use.
type palette struct{ accent, green, red, yellow, dim, faint, match color.Color }

var palettes = [...]palette{
	UnknownBackground: {accent: lipgloss.Color("#6C63FF"), green: lipgloss.Color("#2E9E4F"), red: lipgloss.Color("#D7373F"),
		yellow: lipgloss.Color("#B8860B"), dim: lipgloss.Color("#8A8A8A"), faint: lipgloss.Color("#8A8A8A"), match: lipgloss.Color("#2F80ED")},
	DarkBackground: {accent: lipgloss.Color("#8D89F8"), green: lipgloss.Color("#4FD27A"), red: lipgloss.Color("#FF6B6B"),
		yellow: lipgloss.Color("#E5C05C"), dim: lipgloss.Color("#A8A8A8"), faint: lipgloss.Color("#767676"), match: lipgloss.Color("#5FD7FF")},
	LightBackground: {accent: lipgloss.Color("#4B45C9"), green: lipgloss.Color("#00792B"), red: lipgloss.Color("#C0182E"),
		yellow: lipgloss.Color("#8A5A00"), dim: lipgloss.Color("#5C5C5C"), faint: lipgloss.Color("#9A9A9A"), match: lipgloss.Color("#0055AA")},
}

// NewStyles returns the styles for a background. Meaning is never in the colour alone, so
// every palette only changes contrast, never what is shown.
func NewStyles(bg Background) *Styles {
	if int(bg) >= len(palettes) {
		bg = UnknownBackground
	}
	p := palettes[bg]
	accent, green, red, yellow, dim, faint, matchFg := p.accent, p.green, p.red, p.yellow, p.dim, p.faint, p.match

	s := &Styles{
		App:       lipgloss.NewStyle().Bold(true).Foreground(accent),
		Crumb:     lipgloss.NewStyle().Foreground(dim),
		CrumbLast: lipgloss.NewStyle().Bold(true),
		Title:     lipgloss.NewStyle().Bold(true),
		Header:    lipgloss.NewStyle().Bold(true),
		Dim:       lipgloss.NewStyle().Foreground(dim),
		Faint:     lipgloss.NewStyle().Faint(true), // dimmed default colour: reads on any background, survives NO_COLOR
		Selected:  lipgloss.NewStyle().Reverse(true),
		Match:     lipgloss.NewStyle().Bold(true).Underline(true).UnderlineSpaces(false).Foreground(matchFg),

		Warn: lipgloss.NewStyle().Foreground(yellow),
		Err:  lipgloss.NewStyle().Bold(true).Foreground(red),
		OK:   lipgloss.NewStyle().Foreground(green),

		AllowBanner: lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(green),
		DenyBanner:  lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(red),
		Allow:       lipgloss.NewStyle().Foreground(green),
		Deny:        lipgloss.NewStyle().Foreground(red),
		Deciding:    lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(green),
		DecidingDen: lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(red),
		Matched:     lipgloss.NewStyle().Bold(true),
		Pass:        lipgloss.NewStyle().Foreground(green),
		Fail:        lipgloss.NewStyle().Bold(true).Foreground(red),
		Layer:       lipgloss.NewStyle().Bold(true).Foreground(accent),
		Label:       lipgloss.NewStyle().Foreground(dim),
		Focus:       lipgloss.NewStyle().Bold(true).Foreground(accent),
		Choice:      lipgloss.NewStyle().Bold(true),

		Status:    lipgloss.NewStyle().Foreground(green),
		StatusErr: lipgloss.NewStyle().Bold(true).Foreground(red),
		WhatIf:    lipgloss.NewStyle().Bold(true).Italic(true).Reverse(true).Foreground(yellow),
	}
	key := lipgloss.NewStyle().Bold(true)
	desc := lipgloss.NewStyle().Foreground(dim)
	sep := lipgloss.NewStyle().Foreground(faint)
	s.Help = help.Styles{
		Ellipsis: sep, ShortKey: key, ShortDesc: desc, ShortSeparator: sep,
		FullKey: key, FullDesc: desc, FullSeparator: sep,
	}
	return s
}
