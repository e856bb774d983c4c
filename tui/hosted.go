package tui

import (
	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
)

// Hosted adapts one run of the UI to a host that runs many at once (ipflow serve runs one per
// SSH session, each on that session's own input, output, size and colour profile, passed as
// tea.ProgramOptions). The estate may be replaced between verdicts (a reload) and every verdict
// is reported (the audit log).
type Hosted struct {
	// Engine, if set, returns the engine for the next verdict; a nil result keeps the current.
	Engine func() *engine.Engine
	// Verdict, if set, is called with every verdict the user asks for.
	Verdict func(*engine.Result)
}

// Notice is a message a host sends (tea.Program.Send) to show a line on the status line, such
// as "a newer estate is in use from your next verdict".
type Notice string

// NewProgram builds the UI program for a host: New(eng, start) with h's hooks, run with opts.
func NewProgram(eng *engine.Engine, start Start, h Hosted, opts ...tea.ProgramOption) *tea.Program {
	return tea.NewProgram(newHosted(eng, start, h), opts...)
}

// NewHosted is the UI model NewProgram runs, for a host that wraps it (ipflow serve recovers
// its panics per session).
func NewHosted(eng *engine.Engine, start Start, h Hosted) tea.Model { return newHosted(eng, start, h) }

func newHosted(eng *engine.Engine, start Start, h Hosted) Model {
	m := New(eng, start)
	m.c.host = h
	return m
}

// verify checks a flow with the host's current engine (or the UI's own) and reports the
// verdict to the host.
func (c *ctx) verify(f engine.Flow) (*engine.Result, error) {
	if c.host.Engine != nil {
		if e := c.host.Engine(); e != nil && e != c.eng {
			// Engine and environment move together, so the screens opened from this verdict
			// on (rules, effective rules, whole-estate answers) describe the same estate.
			c.eng, c.env = e, e.Environment()
		}
	}
	res, err := c.eng.Verify(f)
	if err == nil && c.host.Verdict != nil {
		c.host.Verdict(res)
	}
	return res, err
}
