package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"ipflow/model"
)

// ruleSearch is the one search in rules, used by the chain and the rule tables: / types a
// query (ruleMatcher: a name substring, a priority prefix, an address or a port a side holds),
// enter keeps it, esc clears it; the screen jumps between the matching rows with n/N.
type ruleSearch struct {
	search    input
	searching bool   // keys go to the search
	query     string // the applied search, lower-cased
	matches   []int  // rule rows that match the query, in order
	isMatch   []bool // per row
}

func newRuleSearch() ruleSearch {
	return ruleSearch{search: input{placeholder: "rule name, priority, address or port", limit: 200}}
}

// startSearch focuses the search with its text selected (typing starts a new query).
func (r *ruleSearch) startSearch() {
	r.searching = true
	r.search.Focus()
	r.search.SelectAll()
}

// searchKey handles a key or paste while typing the search; it reports whether the query
// text changed (then the screen applies it with setRuleQuery and jumps to the first match).
func (r *ruleSearch) searchKey(m *Model, msg tea.Msg, k *KeyMap) bool {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Keep):
			r.searching = false
			r.search.Blur()
			if r.query != "" && len(r.matches) == 0 {
				m.setStatus("no rule matches \""+safe(r.query)+"\"", true)
			}
			return false
		case key.Matches(km, k.Clear):
			r.searching = false
			r.search.Blur()
			r.search.SetValue("")
			return true
		}
	}
	return r.search.Update(msg, k)
}

// searchScreen is a screen with a rule search: it applies a query to its rows and moves its
// selection to a match.
type searchScreen interface {
	setQuery(q string)
	jumpMatch(from, d int, here bool)
}

// takeSearchKey handles the keys the search owns: every key while the query is typed (a changed
// query is applied and the first match from sel selected), and esc while a query is kept (it
// clears it). It reports whether it took the key.
func (r *ruleSearch) takeSearchKey(m *Model, msg tea.Msg, k *KeyMap, s searchScreen, sel int) bool {
	if r.searching {
		if r.searchKey(m, msg, k) {
			s.setQuery(r.search.Value())
			s.jumpMatch(sel, 1, true)
		}
		return true
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && key.Matches(km, k.Back) && r.query != "" {
		r.clearSearch()
		s.setQuery("")
		return true
	}
	return false
}

// clearSearch drops a kept search (esc after enter).
func (r *ruleSearch) clearSearch() { r.search.SetValue("") }

// setRuleQuery applies q to n rows; rule(i) is row i's rule, nil for rows that are not rules.
func (r *ruleSearch) setRuleQuery(q string, n int, rule func(i int) *model.Rule) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == r.query && len(r.isMatch) == n {
		return
	}
	r.query = q
	r.matches = r.matches[:0]
	if len(r.isMatch) != n {
		r.isMatch = make([]bool, n)
	}
	clear(r.isMatch)
	if q == "" {
		return
	}
	m := newRuleMatcher(q)
	for i := range n {
		if ru := rule(i); ru != nil && m.match(ru) {
			r.matches = append(r.matches, i)
			r.isMatch[i] = true
		}
	}
}

// matched reports whether row i matches the search in effect.
func (r *ruleSearch) matched(i int) bool { return r.query != "" && i < len(r.isMatch) && r.isMatch[i] }

// nextMatch is the first match after row from (at it too when here) in direction d, wrapping
// around; -1 when nothing matches.
func (r *ruleSearch) nextMatch(from, d int, here bool) int {
	if len(r.matches) == 0 {
		return -1
	}
	if d > 0 {
		for _, i := range r.matches {
			if i > from || here && i == from {
				return i
			}
		}
		return r.matches[0]
	}
	for j := len(r.matches) - 1; j >= 0; j-- {
		if r.matches[j] < from {
			return r.matches[j]
		}
	}
	return r.matches[len(r.matches)-1]
}

// searchLine is the search's line (nil when there is none) and, while typing, the cursor's x.
func (r *ruleSearch) searchLine(st *Styles, w int) ([]string, int) {
	if !r.searching && r.query == "" {
		return nil, 0
	}
	text, x := r.search.View(max(w-24, 1), st.Choice, st.Faint)
	count := st.Dim.Render("  " + plural(len(r.matches), "match", "matches"))
	if r.searching {
		return []string{st.Focus.Render("/ ") + text + count}, 2 + x
	}
	return []string{st.Dim.Render("/ ") + text + count + st.Faint.Render("  n/N next/prev · esc clears")}, 0
}
