package tui

import (
	"errors"
	"net/netip"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/engine"
	"ipflow/model"
)

// field is one field of the flow form, in the order the form shows them.
type field int

const (
	fDir field = iota
	fProto
	fLocalIP
	fLocalPort
	fRemoteIP
	fRemotePort
	nFields
	formLevel field = -1 // an engine error about the VM or NIC, shown under the form
)

var fieldLabels = [nFields]string{"Direction", "Protocol", "Local IP", "Local port", "Remote IP", "Remote port"}

// protocols are the flow protocols in the order ←/→ cycles through them.
var protocols = []model.Protocol{model.TCP, model.UDP, model.ICMP, model.ESP, model.AH}

// formScreen is the flow form: Direction, Protocol (choices), Local IP, Local port, Remote IP,
// Remote port (text). Invalid input is marked beside its field as it is typed; enter runs the
// check when every field is valid, else moves to the first invalid one.
type formScreen struct {
	c     *ctx
	vm    *model.VM
	nic   *model.NIC
	dir   model.Direction
	proto model.Protocol
	in    [nFields]input // the four text fields; choices use dir and proto
	focus field
	tried bool // enter was pressed with invalid fields: mark empty ones too

	engErr   string // the engine's refusal of the last check
	engField field
	edited   field // the field last changed by the user, or formLevel when unknown
}

const (
	labelW = 12 // "Remote port" + 1
	valueW = 18 // 15 for an IPv4 address, + room for the cursor and the choice arrows
)

// newForm is a NIC's form. It keeps the flow last checked (direction, protocol, ports and
// remote IP), with the new NIC's primary IP as the local IP, and focuses the first field that
// still needs a value.
func newForm(c *ctx, vm *model.VM, nic *model.NIC) *formScreen {
	s := blankForm(c, vm, nic)
	if ipc := nic.PrimaryIPConfig(); ipc != nil {
		s.in[fLocalIP].SetValue(ipc.PrivateIP.String())
	}
	if c.last != nil {
		s.fill(*c.last, false)
	}
	s.updatePlaceholders()
	s.setFocus(fLocalPort)
	for f := fDir; f < nFields; f++ {
		if msg, ok := s.check(f); !ok && msg == "required" {
			s.setFocus(f)
			break
		}
	}
	return s
}

func blankForm(c *ctx, vm *model.VM, nic *model.NIC) *formScreen {
	s := &formScreen{c: c, vm: vm, nic: nic, dir: model.Inbound, proto: model.TCP, engField: formLevel, edited: formLevel}
	for f := fLocalIP; f < nFields; f++ {
		// Room to paste IP:PORT into an address field (which splits it) and to show what was
		// typed; longer input is refused whole, never cut into another value.
		s.in[f] = input{limit: 64}
	}
	return s
}

// fill puts a flow's values in the form; the local IP only when local is set.
func (s *formScreen) fill(flow engine.Flow, local bool) {
	s.dir, s.proto = flow.Direction, flow.Protocol
	if s.proto == model.AnyProtocol || s.proto > model.AH {
		s.proto = model.TCP
	}
	if local && flow.LocalIP.IsValid() {
		s.in[fLocalIP].SetValue(flow.LocalIP.String())
	}
	if flow.RemoteIP.IsValid() {
		s.in[fRemoteIP].SetValue(flow.RemoteIP.String())
	}
	if s.proto.HasPorts() {
		s.in[fLocalPort].SetValue(flow.LocalPort.String())
		s.in[fRemotePort].SetValue(flow.RemotePort.String())
	}
}

// newFormFor is the form filled with flow (from the command line, or kept from a verdict).
func newFormFor(c *ctx, vm *model.VM, nic *model.NIC, flow engine.Flow) *formScreen {
	s := blankForm(c, vm, nic)
	s.fill(flow, true)
	s.updatePlaceholders()
	s.setFocus(fLocalPort)
	if f, ok := s.firstInvalid(); ok {
		s.setFocus(f)
	}
	return s
}

// resume is the form shown again from its verdict (e or esc): the focus goes to the field last
// edited, or to Local port when that is unknown (the verdict came from the command line), with
// its value selected so that typing replaces it.
func (s *formScreen) resume() {
	f := s.edited
	if f == formLevel || !s.applies(f) {
		f = fLocalPort
		if !s.applies(f) {
			f = fRemoteIP
		}
	}
	s.setFocus(f)
}

func (s *formScreen) crumbs() []string { return []string{safe(s.nic.Name), "flow"} }

func (s *formScreen) typing() bool { return s.isText(s.focus) }

func (s *formScreen) isText(f field) bool { return f >= fLocalIP && f < nFields }

func (s *formScreen) help() help.KeyMap {
	k := s.c.keys
	quit := k.Quit
	if s.typing() {
		quit = k.FormQuit
	}
	cycle := with(k.CycleNext, "←/→", "change")
	short := []key.Binding{k.NextField, k.PrevField, k.Check, k.Back, quit}
	if !s.typing() {
		short = []key.Binding{cycle, k.NextField, k.PrevField, k.Check, k.Back, quit}
	}
	return helpMap{
		short: short,
		full: [][]key.Binding{
			{k.NextField, k.PrevField, k.Check, k.PortField},
			{cycle, k.Inbound, k.Outbound, k.TCP, k.UDP, k.ICMP, k.ESP, k.AH},
			{k.Back, k.Help, with(k.Quit, "q", "quit (not in a text field)"), k.Force},
		},
	}
}

// applies reports whether a field takes part in the flow: ports do not for ICMP, ESP and AH.
func (s *formScreen) applies(f field) bool {
	if f == fLocalPort || f == fRemotePort {
		return s.proto.HasPorts()
	}
	return true
}

// sourcePort reports whether port field f is the flow's source port (where * is allowed).
func (s *formScreen) sourcePort(f field) bool {
	return (f == fRemotePort) == (s.dir == model.Inbound)
}

func (s *formScreen) updatePlaceholders() {
	for _, f := range []field{fLocalPort, fRemotePort} {
		if s.sourcePort(f) {
			s.in[f].placeholder = "*"
		} else {
			s.in[f].placeholder = "0-65535"
		}
	}
	s.in[fLocalIP].placeholder = "10.0.1.4"
	if ipc := s.nic.PrimaryIPConfig(); ipc != nil {
		s.in[fLocalIP].placeholder = ipc.PrivateIP.String()
	}
	s.in[fRemoteIP].placeholder = "IPv4 address"
}

func (s *formScreen) setFocus(f field) {
	for i := fLocalIP; i < nFields; i++ {
		s.in[i].Blur()
	}
	s.focus = f
	if s.isText(f) {
		s.in[f].Focus()
		s.in[f].SelectAll() // as a browser form: the first key typed replaces the value
	}
}

// moveFocus goes to the next (d=1) or previous (d=-1) field that applies, wrapping around.
func (s *formScreen) moveFocus(d int) {
	f := s.focus
	for range nFields {
		f = (f + field(d) + nFields) % nFields
		if s.applies(f) {
			break
		}
	}
	s.setFocus(f)
}

// check validates one field: its message and whether it is valid. An empty field is invalid
// with the message "required", except a source port, which is then * (any).
func (s *formScreen) check(f field) (string, bool) {
	if !s.applies(f) || !s.isText(f) {
		return "", true
	}
	v := strings.TrimSpace(s.in[f].Value())
	switch f {
	case fLocalIP, fRemoteIP:
		if v == "" {
			return "required", false
		}
		a, err := model.ParseIP(v)
		if err != nil {
			return cleanErr(err), false
		}
		if f == fLocalIP {
			for _, c := range s.nic.IPConfigs {
				if c.PrivateIP == a {
					return "", true
				}
			}
			return "not an IP of " + safe(s.nic.Name) + "; use " + s.nicIPs(), false
		}
		return "", true
	default:
		src := s.sourcePort(f)
		if v == "" {
			if src {
				return "", true
			}
			return "required", false
		}
		p, err := engine.ParsePort(v)
		if err != nil {
			return cleanErr(err), false
		}
		// The flow's own rules (* only for the source port) are engine.Flow.Validate's: ask it
		// about this port alone, with every other value valid.
		probe := engine.Flow{Direction: s.dir, Protocol: s.proto, LocalIP: probeIP, RemoteIP: probeIP}
		side := "local"
		if f == fLocalPort {
			probe.LocalPort = p
		} else {
			probe.RemotePort, side = p, "remote"
		}
		var ie *engine.InputError
		if err := probe.Validate(); errors.As(err, &ie) && ie.Field == side {
			if ie.Valid != "" {
				return safe(ie.Valid), false
			}
			return safe(ie.Problem), false
		}
		return "", true
	}
}

var probeIP = netip.AddrFrom4([4]byte{10, 0, 0, 1})

// cleanErr drops the echo of the input ("port \"x\": ") from a parse error: the value is
// right beside it.
func cleanErr(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\": "); i >= 0 {
		msg = msg[i+3:]
	}
	return safe(msg)
}

func (s *formScreen) nicIPs() string {
	ips := make([]string, 0, len(s.nic.IPConfigs))
	for _, c := range s.nic.IPConfigs {
		ips = append(ips, c.PrivateIP.String())
	}
	if len(ips) > 6 {
		return strings.Join(ips[:6], ", ") + " …"
	}
	return strings.Join(ips, ", ")
}

func (s *formScreen) firstInvalid() (field, bool) {
	for f := fDir; f < nFields; f++ {
		if _, ok := s.check(f); !ok {
			return f, true
		}
	}
	return 0, false
}

// flow builds the flow from a valid form.
func (s *formScreen) flow() engine.Flow {
	fl := engine.Flow{VM: s.vm.Name, NIC: s.nic.Name, Direction: s.dir, Protocol: s.proto,
		LocalPort: engine.AnyPort, RemotePort: engine.AnyPort}
	fl.LocalIP, _ = model.ParseIP(strings.TrimSpace(s.in[fLocalIP].Value()))
	fl.RemoteIP, _ = model.ParseIP(strings.TrimSpace(s.in[fRemoteIP].Value()))
	if s.proto.HasPorts() {
		for _, f := range []field{fLocalPort, fRemotePort} {
			p := engine.AnyPort
			if v := strings.TrimSpace(s.in[f].Value()); v != "" {
				p, _ = engine.ParsePort(v)
			}
			if f == fLocalPort {
				fl.LocalPort = p
			} else {
				fl.RemotePort = p
			}
		}
	}
	return fl
}

// setEngineErr shows the engine's refusal beside the field it is about.
func (s *formScreen) setEngineErr(err error) {
	s.engErr, s.engField = safe(err.Error()), formLevel
	var ie *engine.InputError
	if errors.As(err, &ie) {
		switch ie.Field {
		case "direction":
			s.engField = fDir
		case "protocol":
			s.engField = fProto
		case "local":
			s.engField = fLocalIP
			if strings.HasPrefix(ie.Problem, "local port") {
				s.engField = fLocalPort
			}
		case "remote":
			s.engField = fRemoteIP
			if strings.HasPrefix(ie.Problem, "remote port") {
				s.engField = fRemotePort
			}
		}
	}
	if s.engField != formLevel {
		s.setFocus(s.engField)
	}
}

// run checks the flow with the engine and opens its verdict.
func (s *formScreen) run(m *Model) {
	if f, bad := s.firstInvalid(); bad {
		s.tried = true
		s.setFocus(f)
		msg, _ := s.check(f)
		m.setStatus(fieldLabels[f]+": "+msg, true)
		return
	}
	fl := s.flow()
	s.c.last = &fl
	res, err := s.c.verify(fl)
	if err != nil {
		s.setEngineErr(err)
		return
	}
	s.engErr = ""
	m.push(newVerdict(s.c, res))
}

func (s *formScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	k := s.c.keys
	if p, ok := msg.(tea.PasteMsg); ok {
		if !s.isText(s.focus) {
			return nil
		}
		s.engErr = ""
		s.edited = s.focus
		s.insert(p.Content)
		s.reportTooLong(m)
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		m.pop()
		return nil
	case key.Matches(km, k.Check):
		s.run(m)
		return nil
	case key.Matches(km, k.NextField):
		s.moveFocus(1)
		return nil
	case key.Matches(km, k.PrevField):
		s.moveFocus(-1)
		return nil
	}
	switch s.focus {
	case fDir:
		switch {
		case key.Matches(km, k.CycleNext), key.Matches(km, k.CyclePrev):
			s.dir = 1 - s.dir
		case key.Matches(km, k.Inbound):
			s.dir = model.Inbound
		case key.Matches(km, k.Outbound):
			s.dir = model.Outbound
		default:
			return nil
		}
		s.engErr, s.edited = "", fDir
		s.updatePlaceholders()
		return nil
	case fProto:
		i := max(slices.Index(protocols, s.proto), 0)
		switch {
		case key.Matches(km, k.CycleNext):
			i = (i + 1) % len(protocols)
		case key.Matches(km, k.CyclePrev):
			i = (i + len(protocols) - 1) % len(protocols)
		case key.Matches(km, k.TCP):
			i = 0
		case key.Matches(km, k.UDP):
			i = 1
		case key.Matches(km, k.ICMP):
			i = 2
		case key.Matches(km, k.ESP):
			i = 3
		case key.Matches(km, k.AH):
			i = 4
		default:
			return nil
		}
		s.proto = protocols[i]
		s.engErr, s.edited = "", fProto
		return nil
	}
	// A text field. ':' in an address field jumps to its port, as in IP:PORT.
	if key.Matches(km, k.PortField) && (s.focus == fLocalIP || s.focus == fRemoteIP) {
		if s.proto.HasPorts() {
			s.setFocus(s.focus + 1)
		}
		return nil
	}
	if s.in[s.focus].Update(km, k) {
		s.engErr, s.edited = "", s.focus
	}
	s.reportTooLong(m)
	return nil
}

// reportTooLong says so when input was refused for passing the field's limit.
func (s *formScreen) reportTooLong(m *Model) {
	if in := &s.in[s.focus]; in.tooLong {
		m.setStatus(fieldLabels[s.focus]+": longer than the field takes ("+itoa(in.limit)+" characters); nothing was inserted", true)
	}
}

// insert pastes text into the focused field; IP:PORT pasted into an address field fills both
// the address and its port.
func (s *formScreen) insert(text string) {
	text = strings.TrimSpace(text)
	if s.focus == fLocalIP || s.focus == fRemoteIP {
		if a, p, err := engine.ParseEndpoint(text); err == nil {
			s.in[s.focus].SetValue(a.String())
			if s.proto.HasPorts() {
				s.in[s.focus+1].SetValue(p.String())
				s.in[s.focus+1].CursorEnd()
			}
			return
		}
	}
	s.in[s.focus].Update(tea.PasteMsg{Content: text}, s.c.keys)
}

// hint is the quiet text beside a valid field.
func (s *formScreen) hint(f field) string {
	in := s.dir == model.Inbound
	switch f {
	case fDir:
		if in {
			return "to the VM: remote → local"
		}
		return "from the VM: local → remote"
	case fProto:
		if !s.proto.HasPorts() {
			return "no ports; Azure's own check takes TCP/UDP only"
		}
		return "TCP UDP ICMP ESP AH"
	case fLocalIP:
		v := strings.TrimSpace(s.in[fLocalIP].Value())
		for _, c := range s.nic.IPConfigs {
			if c.PrivateIP.String() == v && len(s.nic.IPConfigs) > 1 {
				return safe(c.Name) + "; NIC IPs " + s.nicIPs()
			}
		}
		if len(s.nic.IPConfigs) > 1 {
			return "NIC IPs " + s.nicIPs()
		}
		if c := s.nic.PrimaryIPConfig(); c != nil {
			return safe(c.Name) + " of " + safe(s.nic.Name)
		}
	case fRemoteIP:
		if in {
			return "source address"
		}
		return "destination address"
	case fLocalPort, fRemotePort:
		if !s.applies(f) {
			return ""
		}
		if s.sourcePort(f) {
			return "source port; empty or * = any"
		}
		return "destination port"
	}
	return ""
}

func (s *formScreen) view(w, h int) ([]string, *tea.Cursor) {
	st := s.c.st
	var cur *tea.Cursor
	lines := []string{st.Title.Render(trunc("Flow to check on "+safe(s.vm.Name)+" / "+safe(s.nic.Name), w))}
	if h >= 11 {
		lines = append(lines, "")
	}
	msgX := 2 + labelW + valueW
	below := w-msgX < 24 // too narrow to put messages beside the fields
	for f := fDir; f < nFields; f++ {
		focused := f == s.focus
		marker, label := "  ", st.Label.Render(fit(fieldLabels[f], labelW))
		if focused {
			marker, label = st.Focus.Render("▶ "), st.Focus.Render(fit(fieldLabels[f], labelW))
		}
		var value string
		switch {
		case f == fDir || f == fProto:
			v := s.dir.String()
			if f == fProto {
				v = s.proto.FlowString()
			}
			if focused {
				value = fit(st.Dim.Render("◀ ")+st.Choice.Render(v)+st.Dim.Render(" ▶"), valueW)
			} else {
				value = fit(st.Choice.Render(v), valueW)
			}
		case !s.applies(f):
			value = fit(st.Faint.Render("n/a"), valueW)
		default:
			text, x := s.in[f].View(valueW-2, st.Choice, st.Faint)
			value = fit(text, valueW)
			if focused {
				cur = tea.NewCursor(2+labelW+x, len(lines))
			}
		}
		msg, ok := s.check(f)
		var note string
		marked := false // an error to show even where there is no room for hints
		switch {
		case s.engErr != "" && s.engField == f:
			note, marked = st.Err.Render("✗ ")+s.engErr, true
		case !ok && (msg != "required" || s.tried):
			note, marked = st.Err.Render("✗ "+msg), true
		case !ok:
			note = st.Faint.Render(msg)
		case !s.applies(f):
			note = st.Faint.Render(s.proto.FlowString() + " has no ports")
		default:
			note = st.Dim.Render(s.hint(f))
			if focused && f == fDir {
				note += st.Faint.Render("  ←/→ i/o")
			} else if focused && f == fProto {
				note = st.Dim.Render(s.hint(f)) + st.Faint.Render("  ←/→ t/u/i/e/a")
			}
		}
		row := marker + label + value
		if below {
			lines = append(lines, row)
			if marked {
				for _, l := range wrap(note, w-4, 0) {
					lines = append(lines, "    "+l)
				}
			}
			continue
		}
		noteLines := []string{trunc(note, w-msgX)} // a hint gets one line; an error all it needs
		if marked {
			noteLines = wrapStyled(note, w-msgX)
		}
		lines = append(lines, row+noteLines[0])
		for _, l := range noteLines[1:] {
			lines = append(lines, strings.Repeat(" ", msgX)+l)
		}
	}
	if h >= 11 {
		lines = append(lines, "")
	}
	if _, bad := s.firstInvalid(); !bad {
		fl := s.flow()
		// The whole flow, wrapped: at 50 columns both ports still show.
		for i, l := range wrap(fl.String()+"   (enter checks it)", w-6, 0) {
			prefix := "      "
			if i == 0 {
				prefix = st.Label.Render("Flow  ")
			}
			lines = append(lines, prefix+l)
		}
	} else {
		for _, l := range wrap("Fill in the fields; enter checks the flow when they are valid.", w, 0) {
			lines = append(lines, st.Dim.Render(l)) // wrapped, never cut
		}
	}
	if s.engErr != "" && s.engField == formLevel {
		for i, l := range wrap("✗ "+s.engErr, w, 2) {
			if i == 0 {
				l = st.Err.Render(l)
			}
			lines = append(lines, l)
		}
	}
	return lines, cur
}

// wrapStyled wraps a styled string to w cells (at least one line).
func wrapStyled(s string, w int) []string {
	if w <= 0 {
		return []string{""}
	}
	if width(s) <= w {
		return []string{s}
	}
	return wrap(s, w, 0)
}
