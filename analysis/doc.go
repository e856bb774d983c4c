// Package analysis answers questions about all flows at once, exactly: who can reach a port
// (Reach), which VMs can talk to which (Matrix), which rules can never decide anything (Lint),
// and what a change to an estate changes (Diff).
//
// The core is Partition: for one IP configuration and one direction, the flow space —
// protocol × remote address × remote port × local port (the local address is the IP
// configuration's) — cut into regions, each with the decision engine.Verify gives every flow
// in it. Rules come from the engine (engine.Target.Spaces), with tags, ASGs, routes and
// peerings already resolved the way Decide and Verify resolve them, so the two cannot drift.
//
// # Why boxes, not BDDs
//
// Every rule of an NSG is a product of one set per dimension (a protocol mask, a union of
// address ranges, a union of port ranges on each side): a box whose sides are interval
// unions. The partition is built as a decision diagram over the dimensions in a fixed order
// (protocol, remote address, local port, remote port): at each level the query's range is cut
// at the boundaries of the rules still in play, the pieces where the same rules are in play
// are grouped (the scattered members of an ASG fall into one group), and a rule that holds the
// rest of the query whole ends its layer's list there. At the last level the first rule left
// in each layer decides. That is exact by
// construction, needs no variable ordering, keeps rule identities on every region, and costs a
// sweep over sorted boundaries per level — small, since a NIC sees a few layers of at most a
// few hundred rules. A BDD would encode the same sets bit by bit and pay for it in conversions
// back to prefixes and port ranges, which is what every answer prints. Addresses print as the
// fewest CIDR prefixes that cover a region exactly (AddrSet.Prefixes).
//
// Several evaluations can be partitioned together (the same NIC in two estates): the regions
// are then those where every evaluation's decision is constant, which is what Diff needs and
// what a what-if compares, without building either partition alone.
//
// Everything here is immutable input in, plain data out; nothing is cached between calls, so
// an Analyzer is safe for concurrent use. Lint spreads its partitions over GOMAXPROCS
// goroutines in batches of targets, reading what it knows before a batch and recording what
// the batch found after it in the targets' order, so its findings are those of one goroutine.
package analysis
