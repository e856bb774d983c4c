// Package whatif reads change sets — TOML files of rules to add, replace or remove in NSGs and
// among security admin rules — and applies them to an estate. Applying builds a new estate:
// the loaded one is shared and never changes, so the original and the what-if can be compiled
// and compared side by side (analysis.Diff).
//
// Change sets are read with the fixture loader's reader (model.Document), so their errors read
// like a fixture's: file:line, the change, the key, what would be valid, a "did you mean".
package whatif
