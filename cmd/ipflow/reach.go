package main

import (
	"errors"
	"fmt"
	"strings"

	"ipflow/analysis"
	"ipflow/model"
)

func runReach(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("reach")
	var paths pathList
	var vm, nic, direction, protocol, port, output string
	var wi whatIfFlag
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	wi.register(fs)
	fs.StringVar(&vm, "vm", "", "VM name")
	fs.StringVar(&nic, "nic", "", "NIC name (optional: default the VM's primary NIC)")
	fs.StringVar(&direction, "direction", "", "inbound or outbound, relative to the VM")
	fs.StringVar(&protocol, "protocol", "", "tcp, udp, icmp, esp or ah")
	fs.StringVar(&port, "port", "", "N, N-M or *: the VM's port inbound, the remote port outbound (tcp and udp only)")
	fs.StringVar(&output, "o", "text", "output: text or json")
	fs.StringVar(&output, "output", "text", "output: text or json")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	output, ok := outputFlag("reach", output, stderr, "text", "json")
	if !ok {
		return 2
	}
	q, err := reachQuery(vm, nic, direction, protocol, port)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow reach: %v\n", err)
		return 2
	}
	// One VM's reach: compile that VM alone, unless a what-if needs the whole estate.
	var a *analysis.Analyzer
	var code int
	if len(wi.files) == 0 {
		a, code = c.analyzerFor("reach", paths, vm)
	} else {
		a, code = c.analyzer("reach", paths)
	}
	if a == nil {
		return code
	}
	a, set, code := wi.analyzer(c, "reach", a)
	if a == nil {
		return code
	}
	r, err := a.Reach(q)
	if err != nil {
		return inputError("reach", err, stderr)
	}
	return writeOutput("reach", output, r, whatIfOutput(c, set, output), stderr)
}

// reachQuery checks the flags, naming every one that is missing or wrong in one message.
func reachQuery(vm, nic, direction, protocol, port string) (analysis.ReachQuery, error) {
	q := analysis.ReachQuery{VM: vm, NIC: nic}
	var problems []string
	if vm == "" {
		problems = append(problems, "--vm is required")
	}
	if direction == "" {
		problems = append(problems, "--direction is required")
	} else if d, err := model.ParseDirection(direction); err != nil {
		problems = append(problems, "--direction "+quote(direction)+": must be inbound or outbound")
	} else {
		q.Direction = d
	}
	protoOK := false
	if protocol == "" {
		problems = append(problems, "--protocol is required")
	} else if p, err := model.ParseFlowProtocol(protocol); err != nil {
		problems = append(problems, "--protocol "+quote(protocol)+": must be tcp, udp, icmp, esp or ah")
	} else {
		q.Protocol, protoOK = p, true
	}
	switch {
	case !protoOK:
	case !q.Protocol.HasPorts() && port != "":
		problems = append(problems, fmt.Sprintf("--port %s: %s has no ports; leave --port out", quote(port), q.Protocol.FlowString()))
	case q.Protocol.HasPorts() && port == "":
		problems = append(problems, "--port is required for "+q.Protocol.FlowString()+" (N, N-M or *)")
	case q.Protocol.HasPorts():
		r, err := model.ParsePortRange(port)
		if err != nil {
			problems = append(problems, "--port "+err.Error())
		}
		q.Ports = r
	}
	if len(problems) > 0 {
		return q, errors.New(strings.Join(problems, "; "))
	}
	return q, nil
}
