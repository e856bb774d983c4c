package tui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding of the UI. Screens pick the bindings they use; help is
// generated from the same bindings, so what the help line says is what the keys do.
type KeyMap struct {
	// Moving in lists and the chain.
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	Select key.Binding // enter: open / run the check
	Back   key.Binding // esc: back one screen (never quits)
	Help   key.Binding // ?
	Quit   key.Binding // q, except while typing
	Force  key.Binding // ctrl+c, always

	// VM list.
	Filter      key.Binding // /
	FilterKeep  key.Binding // enter while filtering
	FilterClear key.Binding // esc while filtering

	// Form.
	NextField, PrevField key.Binding
	Cycle                key.Binding // ←/→/space on a choice
	Check                key.Binding // enter on the form
	FormQuit             key.Binding // ctrl+c, shown on the form where q types

	// Verdict.
	NextStep, PrevStep key.Binding
	Edit               key.Binding
	Copy               key.Binding
}

// DefaultKeyMap is the key map of SPEC §5: arrows and vi keys, / filters, esc goes back,
// ? toggles help, q quits except while typing, ctrl+c always quits.
func DefaultKeyMap() *KeyMap {
	return &KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom")),

		Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:   key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Force:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),

		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		FilterKeep:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		FilterClear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),

		NextField: key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("⇧tab/↑", "previous")),
		Cycle:     key.NewBinding(key.WithKeys("left", "right", "space"), key.WithHelp("←/→", "change")),
		Check:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "check")),
		FormQuit:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),

		NextStep: key.NewBinding(key.WithKeys("n", "right", "l"), key.WithHelp("n/→", "next step")),
		PrevStep: key.NewBinding(key.WithKeys("p", "left", "h"), key.WithHelp("p/←", "prev step")),
		Edit:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e/esc", "edit")),
		Copy:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy")),
	}
}

// helpMap is a help.KeyMap built from bindings.
type helpMap struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpMap) ShortHelp() []key.Binding  { return h.short }
func (h helpMap) FullHelp() [][]key.Binding { return h.full }
