package model

// SetRulesPerWorker sets how many NSG rules make reading them in another goroutine worth it, for
// tests outside the package; the returned function restores it.
func SetRulesPerWorker(n int) (restore func()) {
	old := rulesPerWorker
	rulesPerWorker = n
	return func() { rulesPerWorker = old }
}
