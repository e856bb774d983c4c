package server

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// boom is a model that panics where it is told to: in View, in Update, or in a command nested
// in a sequence of batches that Bubble Tea runs on goroutines of its own.
type boom struct{ where string }

func (b boom) Init() tea.Cmd {
	panicky := func() tea.Msg {
		if b.where == "cmd" {
			panic("in a command")
		}
		return "go"
	}
	return tea.Sequence(tea.Batch(func() tea.Msg { return nil }, panicky), func() tea.Msg { return "go" })
}

func (b boom) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg == "go" && b.where == "update" {
		panic("in update")
	}
	return b, nil
}

func (b boom) View() tea.View {
	if b.where == "view" {
		panic("in view")
	}
	return tea.NewView("ok")
}

func TestGuardRecoversEveryPanicOfTheUI(t *testing.T) {
	for _, where := range []string{"cmd", "update", "view"} {
		t.Run(where, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g := &guard{caught: func(r any, stack []byte) {
				mu.Lock()
				got = append(got, fmt.Sprint(r))
				mu.Unlock()
				if !strings.Contains(string(stack), "server.boom") {
					t.Errorf("the stack is not the panic's:\n%s", stack)
				}
				cancel()
			}}
			p := tea.NewProgram(guarded{m: boom{where}, g: g}, tea.WithContext(ctx), tea.WithInput(nil),
				tea.WithOutput(&bytes.Buffer{}), tea.WithoutSignalHandler(), tea.WithWindowSize(80, 24))
			done := make(chan struct{})
			go func() { p.Run(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the program did not stop after the panic")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != "in "+map[string]string{"cmd": "a command", "update": "update", "view": "view"}[where] {
				t.Errorf("caught %q", got)
			}
		})
	}
}
