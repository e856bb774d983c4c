package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"ipflow/model"
)

// Count is the number of findings at each severity.
func (fs Findings) Count() (notes, warnings, errors int) {
	for _, f := range fs {
		switch f.Severity {
		case Note:
			notes++
		case Warning:
			warnings++
		default:
			errors++
		}
	}
	return notes, warnings, errors
}

// AtLeast reports whether a finding is at or above severity s.
func (fs Findings) AtLeast(s Severity) bool {
	for _, f := range fs {
		if f.Severity >= s {
			return true
		}
	}
	return false
}

// Line is "file:line: warning: shadowed: securityRules/x in NSG y can never decide a flow: …".
func (f Finding) Line() string {
	pos := f.Pos.String()
	if pos == "" {
		pos = "(estate)"
	}
	return fmt.Sprintf("%s: %s: %s: %s %s", model.Printable(pos), f.Severity, f.Kind, f.Subject, f.Message)
}

// WriteText writes one line per finding, as compilers do, then the counts.
func (fs Findings) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Line() + "\n")
	}
	n, wn, e := fs.Count()
	if len(fs) == 0 {
		b.WriteString("No findings.\n")
	} else {
		fmt.Fprintf(&b, "%d error(s), %d warning(s), %d note(s)\n", e, wn, n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonFinding struct {
	Kind     string   `json:"kind"`
	Severity string   `json:"severity"`
	Subject  string   `json:"subject"`
	Rule     string   `json:"rule,omitempty"`
	NSG      string   `json:"nsg,omitempty"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Message  string   `json:"message"`
	Related  []string `json:"related,omitempty"`
	VMs      []string `json:"vms,omitempty"`
}

// MarshalJSON lists the findings (an empty list when there are none).
func (fs Findings) MarshalJSON() ([]byte, error) {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		j := jsonFinding{Kind: f.Kind, Severity: f.Severity.String(), Subject: f.Subject, File: f.Pos.File, Line: f.Pos.Line, Message: f.Message, VMs: f.VMs}
		if f.Rule != nil {
			j.Rule = f.Rule.ID()
		}
		if f.NSG != nil {
			j.NSG = f.NSG.Name
		}
		for _, r := range f.Related {
			j.Related = append(j.Related, r.ID())
		}
		out = append(out, j)
	}
	return json.Marshal(struct {
		Findings []jsonFinding `json:"findings"`
	}{out})
}

// kindHelp is each kind's one-line description, for SARIF's rule metadata.
var kindHelp = map[string]string{
	KindShadowed:    "A rule that can never decide a flow: higher-priority rules of the same NSG match every flow it matches.",
	KindUnreachable: "A rule whose flows another layer (the subnet NSG, a security admin rule) always decides first.",
	KindMatchesNone: "A rule that matches no flow of any NIC it applies to.",
	KindEmptyASG:    "An application security group without members.",
	KindUnusedTag:   "A declared service tag that no rule names, or that has no prefixes.",
	KindUnattached:  "A network security group attached to no subnet and no NIC.",
	KindExposure:    "Management ports (22, 3389, 5985-5986) or every port allowed from the Internet to a running VM.",
}

var kindOrder = []string{KindExposure, KindShadowed, KindUnreachable, KindMatchesNone, KindEmptyASG, KindUnusedTag, KindUnattached}

// SARIF is the findings as a SARIF 2.1.0 log, so that code-scanning tools show them on the
// fixture lines.
func (fs Findings) SARIF(version string) ([]byte, error) {
	type text struct {
		Text string `json:"text"`
	}
	type region struct {
		StartLine int `json:"startLine"`
	}
	type physical struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region *region `json:"region,omitempty"`
	}
	type location struct {
		ID               int      `json:"id,omitempty"`
		PhysicalLocation physical `json:"physicalLocation"`
		Message          *text    `json:"message,omitempty"`
	}
	type result struct {
		RuleID           string     `json:"ruleId"`
		RuleIndex        int        `json:"ruleIndex"`
		Level            string     `json:"level"`
		Message          text       `json:"message"`
		Locations        []location `json:"locations"`
		RelatedLocations []location `json:"relatedLocations,omitempty"`
	}
	type rule struct {
		ID               string `json:"id"`
		ShortDescription text   `json:"shortDescription"`
	}
	loc := func(p model.Pos, msg string) location {
		var l location
		l.PhysicalLocation.ArtifactLocation.URI = p.File
		if p.Line > 0 {
			l.PhysicalLocation.Region = &region{p.Line}
		}
		if msg != "" {
			l.Message = &text{msg}
		}
		return l
	}
	var rules []rule
	index := map[string]int{}
	for _, k := range kindOrder {
		index[k] = len(rules)
		rules = append(rules, rule{ID: k, ShortDescription: text{kindHelp[k]}})
	}
	results := make([]result, 0, len(fs))
	for _, f := range fs {
		r := result{RuleID: f.Kind, RuleIndex: index[f.Kind], Level: f.Severity.String(), Message: text{f.Subject + " " + f.Message},
			Locations: []location{loc(f.Pos, "")}}
		for i, rel := range f.Related {
			if rel.Pos.File != "" {
				l := loc(rel.Pos, model.Printable(rel.ID()))
				l.ID = i + 1
				r.RelatedLocations = append(r.RelatedLocations, l)
			}
		}
		results = append(results, r)
	}
	type driver struct {
		Name           string `json:"name"`
		Version        string `json:"version,omitempty"`
		InformationURI string `json:"informationUri,omitempty"`
		Rules          []rule `json:"rules"`
	}
	log := struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver driver `json:"driver"`
			} `json:"tool"`
			Results []result `json:"results"`
		} `json:"runs"`
	}{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0"}
	log.Runs = make([]struct {
		Tool struct {
			Driver driver `json:"driver"`
		} `json:"tool"`
		Results []result `json:"results"`
	}, 1)
	log.Runs[0].Tool.Driver = driver{Name: "ipflow", Version: version, Rules: rules}
	log.Runs[0].Results = results
	return json.MarshalIndent(log, "", "  ")
}
