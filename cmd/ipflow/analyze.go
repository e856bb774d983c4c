package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"ipflow/engine"
	"ipflow/model"
)

// This file holds what the whole-estate commands (reach, matrix, lint, diff) share.

// outputFlag checks -o against the formats a command writes.
func outputFlag(cmd, output string, stderr io.Writer, formats ...string) (string, bool) {
	o := strings.ToLower(output)
	for _, f := range formats {
		if o == f {
			return o, true
		}
	}
	fmt.Fprintf(stderr, "ipflow %s: -o %s: must be %s\n", cmd, quote(output), strings.Join(formats, " or "))
	return "", false
}

// inputError prints an analysis or engine error in one line, naming the flag it is about.
func inputError(cmd string, err error, stderr io.Writer) int {
	var ie *engine.InputError
	if errors.As(err, &ie) {
		fmt.Fprintf(stderr, "ipflow %s: --%s: %v\n", cmd, ie.Field, err)
	} else {
		fmt.Fprintf(stderr, "ipflow %s: %v\n", cmd, err)
	}
	return 2
}

// writeOutput writes v as JSON or as its text.
func writeOutput(cmd, output string, v interface {
	json.Marshaler
	WriteText(io.Writer) error
}, stdout, stderr io.Writer) int {
	if output == "json" {
		data, err := v.MarshalJSON()
		if err != nil {
			fmt.Fprintf(stderr, "ipflow %s: %v\n", cmd, err)
			return 2
		}
		fmt.Fprintf(stdout, "%s\n", model.EscapeJSON(data))
		return 0
	}
	if err := v.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "ipflow %s: %v\n", cmd, err)
		return 2
	}
	return 0
}
