package engine

// SharedTables is sharedTables, for the tests of package engine_test.
var SharedTables = sharedTables
