package model

import "fmt"

// maxDepth is how deeply a fixture may nest tables, arrays and dotted keys. A real estate needs
// about six ([[vm.nic.ip_config]], a key, an array); the TOML decoder takes seconds and gigabytes
// on ten thousand levels, so depth is checked first, in one pass over the text.
const maxDepth = 32

// depthError is a fixture nested deeper than maxDepth.
type depthError struct {
	line, depth int
}

func (e *depthError) Error() string {
	return fmt.Sprintf("nested more than %d levels deep (tables, dotted keys, arrays and inline tables together); a fixture needs about 6", maxDepth)
}

// checkDepth finds the first line where text nests deeper than maxDepth, counting each table
// header part, key part, array and inline table above a value. It follows TOML's lexical
// structure only as far as depth needs (headers, dotted keys outside quotes, arrays, inline tables
// and their keys), skipping strings and comments; what is malformed is left to the decoder.
func checkDepth(text string) error {
	line := 1
	base := 0     // levels of the current table header
	topValue := 0 // level of the current top-level key's value
	keyDots := 0  // dots of the key being read
	type frame struct {
		table bool
		level int // the array's or inline table's own level
		cur   int // level of the value being read in it
	}
	var stack []frame
	inKey := true           // reading a key: at a line's start, or after { or , in an inline table
	keyBase := func() int { // the level a key being read starts from
		if len(stack) == 0 {
			return base
		}
		return stack[len(stack)-1].level
	}
	parent := func() int { // the level a new array or inline table nests in
		if len(stack) == 0 {
			return topValue
		}
		return stack[len(stack)-1].cur
	}
	check := func(level int) error {
		if level > maxDepth {
			return &depthError{line: line, depth: level}
		}
		return nil
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\n':
			line++
			if len(stack) == 0 {
				inKey, keyDots = true, 0
			}
		case '#':
			for i+1 < len(text) && text[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			i = skipTOMLString(text, i, &line)
		case '[':
			if inKey && len(stack) == 0 { // a table header: [a.b] or [[a.b]]
				parts := 1
				for i++; i < len(text) && text[i] != '\n' && text[i] != ']'; i++ {
					switch text[i] {
					case '.':
						parts++
					case '"', '\'':
						i = skipTOMLString(text, i, &line)
					}
				}
				base = parts
				if err := check(base); err != nil {
					return err
				}
				for i+1 < len(text) && text[i+1] == ']' {
					i++
				}
				continue
			}
			l := parent() + 1
			stack = append(stack, frame{level: l, cur: l})
			inKey = false
			if err := check(l); err != nil {
				return err
			}
		case '{':
			l := parent() + 1
			stack = append(stack, frame{table: true, level: l, cur: l})
			inKey, keyDots = true, 0
			if err := check(l); err != nil {
				return err
			}
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if len(stack) > 0 && stack[len(stack)-1].table {
				inKey, keyDots = true, 0
			}
		case '.':
			if inKey {
				keyDots++
				if err := check(keyBase() + keyDots + 1); err != nil {
					return err
				}
			}
		case '=':
			if inKey {
				l := keyBase() + keyDots + 1
				if len(stack) == 0 {
					topValue = l
				} else {
					stack[len(stack)-1].cur = l
				}
				if err := check(l); err != nil {
					return err
				}
				inKey = false
			}
		}
	}
	return nil
}

// skipTOMLString returns the index of the last byte of the string (basic or literal, one- or
// multi-line) that starts at text[i], counting the lines it spans. An unterminated one-line
// string ends at the newline, which is left to the caller.
func skipTOMLString(text string, i int, line *int) int {
	q := text[i]
	if i+2 < len(text) && text[i+1] == q && text[i+2] == q { // multi-line
		for j := i + 3; j < len(text); j++ {
			switch {
			case text[j] == '\n':
				*line++
			case q == '"' && text[j] == '\\':
				if j+1 < len(text) && text[j+1] == '\n' {
					*line++
				}
				j++
			case text[j] == q && j+2 < len(text) && text[j+1] == q && text[j+2] == q:
				j += 2
				for extra := 0; extra < 2 && j+1 < len(text) && text[j+1] == q; extra++ {
					j++ // """a""""": up to two more quotes belong to the content
				}
				return j
			}
		}
		return len(text) - 1
	}
	for j := i + 1; j < len(text); j++ {
		switch {
		case text[j] == '\n':
			return j - 1
		case q == '"' && text[j] == '\\':
			j++
		case text[j] == q:
			return j
		}
	}
	return len(text) - 1
}
