package tui

import (
	"net/netip"
	"testing"

	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/model"
)

// Two escs pressed quickly arrive as one alt+esc; they must go back two screens, not none.
func TestQuickDoubleEscGoesBackTwice(t *testing.T) {
	flow := engine.Flow{VM: "web-01", Direction: model.Inbound, Protocol: model.TCP,
		LocalIP: netip.MustParseAddr("10.0.1.4"), LocalPort: 123,
		RemoteIP: netip.MustParseAddr("13.107.21.200"), RemotePort: 60000}
	m := sized(sampleEngine(t), Start{VM: "web-01", Flow: &flow}, 80, 24)
	next, _ := m.Update(tea.KeyPressMsg{Code: tea.KeyEscape, Mod: tea.ModAlt})
	if got := screenOf(next.(Model)); got != "nics" {
		t.Fatalf("alt+esc from the verdict went to %q, want the NIC list", got)
	}
}
