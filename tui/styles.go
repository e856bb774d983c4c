package tui

import (
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
	Help      help.Styles
}

// NewStyles returns the styles for a dark or a light background. The default before the
// terminal answers is dark; the colours chosen for it also read on a light background.
func NewStyles(isDark bool) *Styles {
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("#4B45C9"), lipgloss.Color("#8D89F8"))
	green := ld(lipgloss.Color("#00792B"), lipgloss.Color("#4FD27A"))
	red := ld(lipgloss.Color("#C0182E"), lipgloss.Color("#FF6B6B"))
	yellow := ld(lipgloss.Color("#8A5A00"), lipgloss.Color("#E5C05C"))
	dim := ld(lipgloss.Color("#5C5C5C"), lipgloss.Color("#A8A8A8"))
	faint := ld(lipgloss.Color("#9A9A9A"), lipgloss.Color("#767676"))
	matchFg := ld(lipgloss.Color("#0055AA"), lipgloss.Color("#5FD7FF"))

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
