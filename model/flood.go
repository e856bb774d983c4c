package model

import (
	"sort"
	"strings"
)

// maxIssuesPerFile is how many errors (and, apart, warnings) of one file are reported in full; the
// rest are counted by kind in one closing line, so that a broken or hostile file cannot flood
// the terminal (a million unknown tables would otherwise print a million lines) and nothing is
// hidden either.
const maxIssuesPerFile = 200

// issueKind sorts a message into the kinds the closing line counts.
func issueKind(msg string) string {
	switch {
	case strings.Contains(msg, "unknown key"):
		return "unknown keys"
	case strings.Contains(msg, "defined twice"):
		return "names defined twice"
	case strings.Contains(msg, "no ") && strings.Contains(msg, " named "):
		return "bad references"
	case strings.Contains(msg, "missing required key") || strings.HasPrefix(msg, "missing "):
		return "missing keys"
	case strings.Contains(msg, ": expected "):
		return "wrong types"
	case strings.Contains(msg, "TOML syntax error"):
		return "syntax errors"
	}
	return "other"
}

// capIssues keeps the first maxIssuesPerFile issues of each file of a sorted list, ending each
// cut file's issues with one that counts the rest by kind ("… and 999,800 more errors (999,000
// unknown keys, 800 bad references)"). what is "errors" or "warnings".
func capIssues(list []Issue, what string) []Issue {
	counts := map[string]int{}
	for _, is := range list {
		counts[is.Pos.File]++
	}
	cut := false
	for _, n := range counts {
		if n > maxIssuesPerFile {
			cut = true
		}
	}
	if !cut {
		return list
	}
	out := make([]Issue, 0, len(counts)*(maxIssuesPerFile+1))
	for i := 0; i < len(list); {
		file := list[i].Pos.File
		j := i
		for j < len(list) && list[j].Pos.File == file {
			j++
		}
		if j-i <= maxIssuesPerFile {
			out = append(out, list[i:j]...)
			i = j
			continue
		}
		out = append(out, list[i:i+maxIssuesPerFile]...)
		kinds := map[string]int{}
		for _, is := range list[i+maxIssuesPerFile : j] {
			kinds[issueKind(is.Message)]++
		}
		names := make([]string, 0, len(kinds))
		for k := range kinds {
			names = append(names, k)
		}
		sort.Slice(names, func(a, b int) bool {
			if kinds[names[a]] != kinds[names[b]] {
				return kinds[names[a]] > kinds[names[b]]
			}
			return names[a] < names[b]
		})
		parts := make([]string, len(names))
		for k, n := range names {
			parts[k] = formatCount(kinds[n]) + " " + n
		}
		out = append(out, Issue{Pos: Pos{File: file}, Omitted: j - i - maxIssuesPerFile,
			Message: "… and " + formatCount(j-i-maxIssuesPerFile) + " more " + what + " (" + strings.Join(parts, ", ") + ")"})
		i = j
	}
	return out
}

// CountIssues is how many issues a list stands for, counting those a closing line summarises.
func CountIssues(list []Issue) int {
	n := len(list)
	for _, is := range list {
		if is.Omitted > 0 {
			n += is.Omitted - 1
		}
	}
	return n
}
