package main

import (
	"bytes"
	"fmt"

	"ipflow/engine"
	"ipflow/suggest"
)

// writeSuggestions prints, after a verdict, the changes that reverse it (verify --suggest).
func writeSuggestions(c *invocation, eng *engine.Engine, flow engine.Flow) int {
	r, err := suggest.For(eng, flow)
	if err != nil {
		fmt.Fprintf(c.stderr, "ipflow verify: --suggest: %v\n", err)
		return 2
	}
	if err := r.WriteText(c.stdout, eng.Environment()); err != nil {
		fmt.Fprintf(c.stderr, "ipflow verify: %v\n", err)
		return 2
	}
	return 0
}

// withSuggestions adds "suggestions": [...] as the last field of verify's JSON object; nil
// means exit with the code.
func withSuggestions(c *invocation, eng *engine.Engine, flow engine.Flow, data []byte) ([]byte, int) {
	r, err := suggest.For(eng, flow)
	if err == nil {
		var list []byte
		if list, err = r.JSON(eng.Environment()); err == nil {
			data = bytes.TrimRight(bytes.TrimSpace(data), "}")
			out := append(data, `,"suggestions":`...)
			out = append(out, list...)
			return append(out, '}'), 0
		}
	}
	fmt.Fprintf(c.stderr, "ipflow verify: --suggest: %v\n", err)
	return nil, 2
}
