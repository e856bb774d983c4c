package server

import (
	"reflect"
	"runtime/debug"
	"sync"

	tea "charm.land/bubbletea/v2"
)

// guarded runs a UI model so that a panic in it — in Init, Update or View, or in any command
// it returns, however deeply batched or sequenced — ends only its own session: the panic goes to
// caught (the session logs it, escaped, with its stack) and the program stops. Bubble Tea's own
// recovery would print the panic raw, with its stack, on the server's stderr, which is the
// operators' log; it stays on only as a backstop for panics inside Bubble Tea itself.
type guarded struct {
	m tea.Model
	g *guard
}

type guard struct {
	once   sync.Once
	caught func(r any, stack []byte) // called once, with the first panic
}

func (g *guard) recovered(r any) {
	stack := debug.Stack()
	g.once.Do(func() { g.caught(r, stack) })
}

func (m guarded) Init() (cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.g.recovered(r)
			cmd = tea.Quit
		}
	}()
	return m.g.wrap(m.m.Init())
}

func (m guarded) Update(msg tea.Msg) (next tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.g.recovered(r)
			next, cmd = m, tea.Quit
		}
	}()
	inner, c := m.m.Update(msg)
	return guarded{m: inner, g: m.g}, m.g.wrap(c)
}

// View cannot quit the program: caught ends the session, which stops it.
func (m guarded) View() (v tea.View) {
	defer func() {
		if r := recover(); r != nil {
			m.g.recovered(r)
			v = tea.NewView("")
		}
	}()
	return m.m.View()
}

// wrap makes a command recover its panics, and wraps the commands of the batch or sequence it
// returns (Bubble Tea runs those itself, on goroutines of its own).
func (g *guard) wrap(c tea.Cmd) tea.Cmd {
	if c == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				g.recovered(r)
				msg = tea.QuitMsg{}
			}
		}()
		return g.wrapCmds(c())
	}
}

var cmdType = reflect.TypeFor[tea.Cmd]()

// wrapCmds wraps the commands of a tea.BatchMsg or of a sequence (whose type Bubble Tea does
// not export, hence reflection: any slice of commands), keeping the message's type.
func (g *guard) wrapCmds(msg tea.Msg) tea.Msg {
	v := reflect.ValueOf(msg)
	if !v.IsValid() || v.Kind() != reflect.Slice || v.Type().Elem() != cmdType {
		return msg
	}
	out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
	for i := range v.Len() {
		c, _ := v.Index(i).Interface().(tea.Cmd)
		out.Index(i).Set(reflect.ValueOf(g.wrap(c)))
	}
	return out.Interface()
}
