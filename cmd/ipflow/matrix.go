package main

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"ipflow/analysis"
	"ipflow/model"
)

func runMatrix(c *invocation, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("matrix")
	var paths pathList
	var protocol, port, vms, output string
	fs.Var(&paths, "f", "fixture file or directory (repeatable)")
	fs.StringVar(&protocol, "protocol", "", "tcp, udp, icmp, esp or ah")
	fs.StringVar(&port, "port", "", "the destination port N (tcp and udp only)")
	fs.StringVar(&vms, "vms", "", "which VMs: comma-separated names, substrings or globs (web-*); default all")
	fs.StringVar(&output, "o", "text", "output: text or json")
	fs.StringVar(&output, "output", "text", "output: text or json")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	output, ok := outputFlag("matrix", output, stderr, "text", "json")
	if !ok {
		return 2
	}
	q, err := matrixQuery(protocol, port)
	if err != nil {
		fmt.Fprintf(stderr, "ipflow matrix: %v\n", err)
		return 2
	}
	a, code := c.analyzer("matrix", paths)
	if a == nil {
		return code
	}
	if vms != "" {
		if q.VMs, err = filterVMs(a.Engine().Environment(), vms); err != nil {
			fmt.Fprintf(stderr, "ipflow matrix: --vms: %v\n", err)
			return 2
		}
	}
	m, err := a.Matrix(q)
	if err != nil {
		return inputError("matrix", err, stderr)
	}
	return writeOutput("matrix", output, m, stdout, stderr)
}

func matrixQuery(protocol, port string) (analysis.MatrixQuery, error) {
	var q analysis.MatrixQuery
	var problems []string
	p, err := model.ParseFlowProtocol(protocol)
	switch {
	case protocol == "":
		problems = append(problems, "--protocol is required")
	case err != nil:
		problems = append(problems, "--protocol "+quote(protocol)+": must be tcp, udp, icmp, esp or ah")
	case !p.HasPorts() && port != "":
		problems = append(problems, fmt.Sprintf("--port %s: %s has no ports; leave --port out", quote(port), p.FlowString()))
	case p.HasPorts() && port == "":
		problems = append(problems, "--port is required for "+p.FlowString()+" (one port, like 1433)")
	case p.HasPorts():
		r, err := model.ParsePortRange(port)
		switch {
		case err != nil:
			problems = append(problems, "--port "+err.Error())
		case r.Lo != r.Hi:
			problems = append(problems, "--port "+quote(port)+": must be one port, like 1433")
		}
		q.Port = r.Lo
	}
	q.Protocol = p
	if len(problems) > 0 {
		return q, errors.New(strings.Join(problems, "; "))
	}
	return q, nil
}

// filterVMs picks the VMs whose name matches one of the comma-separated patterns: a glob
// (with * ? [) or else a substring, in the estate's order.
func filterVMs(env *model.Environment, filter string) ([]string, error) {
	var pats []string
	for _, p := range strings.Split(filter, ",") {
		if p = strings.TrimSpace(p); p != "" {
			pats = append(pats, p)
		}
	}
	var out []string
	for _, vm := range env.VMs {
		for _, p := range pats {
			ok := strings.Contains(vm.Name, p)
			if strings.ContainsAny(p, "*?[") {
				m, err := path.Match(p, vm.Name)
				if err != nil {
					return nil, fmt.Errorf("pattern %s: %v", quote(p), err)
				}
				ok = m
			}
			if ok {
				out = append(out, vm.Name)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s matches no VM", quote(filter))
	}
	return out, nil
}
