package analysis

// LintWith is Lint on a given number of workers and batch size.
func (a *Analyzer) LintWith(workers, batch int) Findings { return a.lint(workers, batch) }
