package analysis

import "context"

// LintWith is Lint on a given number of workers and batch size.
func (a *Analyzer) LintWith(workers, batch int) Findings {
	fs, _ := a.lint(context.Background(), workers, batch)
	return fs
}
