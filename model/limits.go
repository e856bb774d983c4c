package model

import "strconv"

// Azure's networking limits that a fixture can break (Azure Resource Manager, per resource). Azure
// documents them as fixed ("networking limits": the defaults were raised to the maxima and are
// not adjustable), so breaking one is an error, as Azure would refuse the resource.
const (
	MaxRulesPerNSG     = 1000 // NSG rules per NSG
	MaxPrefixesPerSide = 4000 // IP addresses and ranges for source or destination (augmented rules)
	MaxASGsPerSide     = 10   // application security groups as source or destination of a rule
	MaxASGsPerNSG      = 100  // application security groups in all the rules of one NSG
	MaxASGsPerIPConfig = 20   // application security groups per IP configuration
	MaxMembersPerASG   = 4000 // IP configurations per application security group
	MaxDescription     = 140  // characters of a rule's description
)

// formatCount writes n with thousands separators: 4,000.
func formatCount(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
