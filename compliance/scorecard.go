package compliance

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/paved-road/paved/problem"
)

// Off is a rule level used only in scorecards: the rule is left out of the scorecard.
const Off Level = "off"

// ScorecardFormatVersion is the only version of the scorecard file format.
const ScorecardFormatVersion = 1

// MaxScorecardFileSize is the largest scorecard file [ParseScorecards] reads.
const MaxScorecardFileSize = 1 << 20

// MaxWeight is the largest weight a scorecard may give a rule.
const MaxWeight = 100

// ScorecardFile is a platform team's scorecards, parsed by [ParseScorecards] from a JSON
// file whose format docs/compliance.md describes:
//
//	{
//	  "version": 1,
//	  "scorecards": [
//	    {
//	      "name": "critical-services",
//	      "description": "Tier 1 and 2 must be reachable at night.",
//	      "appliesTo": {"tiers": [1, 2], "labels": {"pci": "true"}},
//	      "rules": [
//	        {"id": "on-call-link", "level": "required", "weight": 5},
//	        {"id": "request-limits", "level": "off"}
//	      ]
//	    }
//	  ]
//	}
type ScorecardFile struct {
	// Version is the file format's version, [ScorecardFormatVersion].
	Version int
	// Scorecards are the scorecards in file order. Names are unique.
	Scorecards []Scorecard
}

// Scorecard re-levels and re-weights a report's rules for the components it applies to,
// as Compass scorecards do. A Scorecard is a plain value: safe for concurrent reads.
type Scorecard struct {
	// Name identifies the scorecard, kebab-case like a rule id.
	Name string
	// Description says what the scorecard is for.
	Description string
	// AppliesTo selects the components the scorecard applies to; the zero Selector
	// selects every component.
	AppliesTo Selector
	// OnlyListed leaves out every rule not in Rules; false keeps them at their level and
	// weight.
	OnlyListed bool
	// Rules override the levels and weights of the rules they name.
	Rules []RuleOverride
}

// Selector chooses components. Each non-empty field must match; the zero Selector
// matches every component.
type Selector struct {
	// Tiers matches a component whose tier is one of these.
	Tiers []int
	// Lifecycles matches a component whose lifecycle is one of these.
	Lifecycles []string
	// Environments matches a report from one of these environments.
	Environments []string
	// Labels matches a component that has every one of these labels with its value.
	Labels map[string]string
}

// RuleOverride sets a rule's level and weight in a scorecard.
type RuleOverride struct {
	// ID is the rule's id.
	ID string
	// Level is Required, Recommended, or Off to leave the rule out. [ParseScorecards]
	// fills in the rule's own level when the file leaves it out; empty keeps the level
	// of the report.
	Level Level
	// Weight is the rule's weight, 1 to [MaxWeight]. [ParseScorecards] fills in the
	// rule's own weight when the file leaves it out; 0 keeps the weight of the report.
	Weight int
}

// Target is what a scorecard selects a component by. [Facts.Target] builds one; the
// catalog builds one from a component and the environment of its report.
type Target struct {
	Tier        int               // 1 to 4; 0 when unset
	Lifecycle   string            // experimental, production or deprecated
	Environment string            // development, staging or production
	Labels      map[string]string // the component's labels
}

// Matches reports whether the selector chooses t.
func (s Selector) Matches(t Target) bool {
	if len(s.Tiers) > 0 && !slices.Contains(s.Tiers, t.Tier) {
		return false
	}
	if len(s.Lifecycles) > 0 && !slices.Contains(s.Lifecycles, t.Lifecycle) {
		return false
	}
	env := t.Environment
	if env == "" {
		env = EnvDevelopment
	}
	if len(s.Environments) > 0 && !slices.Contains(s.Environments, env) {
		return false
	}
	for k, v := range s.Labels {
		if got, ok := t.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Apply returns r as this scorecard scores it: each listed rule at the scorecard's level
// and weight, rules at level Off left out, unlisted rules left out when OnlyListed, and
// the score and lists recomputed. A listed rule the report does not hold (the service
// runs an older rule set) fails with a message saying so. r is not modified.
func (s Scorecard) Apply(r Report) Report {
	out := r
	out.Scorecard = s.Name
	out.Results = make([]RuleResult, 0, len(r.Results)+len(s.Rules))
	over := make(map[string]RuleOverride, len(s.Rules))
	for _, o := range s.Rules {
		over[o.ID] = o
	}
	seen := make(map[string]bool, len(r.Results))
	for _, x := range r.Results {
		seen[x.ID] = true
		o, listed := over[x.ID]
		switch {
		case !listed && s.OnlyListed, listed && o.Level == Off:
			continue
		case listed:
			if o.Level != "" {
				x.Level = o.Level
			}
			if o.Weight > 0 {
				x.Weight = o.Weight
			}
		}
		out.Results = append(out.Results, x)
	}
	for _, o := range s.Rules {
		if seen[o.ID] || o.Level == Off {
			continue
		}
		lvl, w := o.Level, o.Weight
		if lvl == "" {
			lvl = Required
		}
		if w <= 0 {
			w = 1
		}
		out.Results = append(out.Results, RuleResult{
			ID: o.ID, Title: o.ID, Level: lvl, Weight: w, Status: StatusFail,
			Message: fmt.Sprintf("not evaluated: the service's rule set %s has no rule %q", orDash(r.RuleSetVersion), o.ID),
			Fix:     "Upgrade the service to a Paved release whose rule set has this rule.",
		})
	}
	out.tally()
	return out
}

// Matching returns the scorecards that apply to t, in file order.
func (f ScorecardFile) Matching(t Target) []Scorecard {
	var out []Scorecard
	for _, s := range f.Scorecards {
		if s.AppliesTo.Matches(t) {
			out = append(out, s)
		}
	}
	return out
}

// Apply returns r as scored by each scorecard that applies to t, in file order; none
// when no scorecard applies.
func (f ScorecardFile) Apply(r Report, t Target) []Report {
	var out []Report
	for _, s := range f.Matching(t) {
		out = append(out, s.Apply(r))
	}
	return out
}

// Scorecard returns the scorecard with the given name.
func (f ScorecardFile) Scorecard(name string) (Scorecard, bool) {
	for _, s := range f.Scorecards {
		if s.Name == name {
			return s, true
		}
	}
	return Scorecard{}, false
}

// LoadScorecards reads and parses the scorecard file at path; see [ParseScorecards].
func LoadScorecards(path string, set RuleSet) (ScorecardFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return ScorecardFile{}, fmt.Errorf("compliance: scorecard file: %w", err)
	}
	defer f.Close()
	return ParseScorecards(f, set)
}

// ParseScorecards parses a scorecard file (JSON, format in docs/compliance.md) and
// checks it against set. It reads at most [MaxScorecardFileSize] bytes. It returns a
// [*ScorecardError] listing every problem at once, each naming its field: unknown or
// repeated fields, values of the wrong type, a missing or unsupported version, names
// missing or repeated, tiers, lifecycles and environments out of range, rule ids that
// set does not hold (with the closest one), levels other than required, recommended and
// off, and weights outside 1 to [MaxWeight]. Only JSON syntax errors stop the parse
// early. A file that leaves a rule's level or weight out gets the rule's own from set.
func ParseScorecards(r io.Reader, set RuleSet) (ScorecardFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxScorecardFileSize+1))
	if err != nil {
		return ScorecardFile{}, fmt.Errorf("compliance: scorecard file: %w", err)
	}
	var p problems
	if len(data) > MaxScorecardFileSize {
		p.add("", "file is larger than %d bytes", MaxScorecardFileSize)
		return ScorecardFile{}, p.scorecardErr()
	}
	root, err := parseTree(data, &p)
	if err != nil {
		p.add("", "%v", err)
		return ScorecardFile{}, p.scorecardErr()
	}
	var file ScorecardFile
	if object(root, "", &p, "version", "scorecards") {
		if v, ok := root.fields["version"]; !ok {
			p.add("version", "is required: %d", ScorecardFormatVersion)
		} else if n, ok := integer(v, "version", &p); ok && n != ScorecardFormatVersion {
			p.add("version", "must be %d (the only format version), got %d", ScorecardFormatVersion, n)
		} else {
			file.Version = n
		}
		if sc, ok := root.fields["scorecards"]; !ok {
			p.add("scorecards", "is required: an array of scorecards")
		} else if items, ok := array(sc, "scorecards", &p); ok {
			names := map[string]int{}
			for i, it := range items {
				path := fmt.Sprintf("scorecards[%d]", i)
				s := parseScorecard(it, path, set, &p)
				if j, dup := names[s.Name]; dup && s.Name != "" {
					p.add(path+".name", "%q is already the name of scorecards[%d]", s.Name, j)
				} else {
					names[s.Name] = i
				}
				file.Scorecards = append(file.Scorecards, s)
			}
		}
	}
	if err := p.scorecardErr(); err != nil {
		return ScorecardFile{}, err
	}
	return file, nil
}

func parseScorecard(n *node, path string, set RuleSet, p *problems) Scorecard {
	var s Scorecard
	if !object(n, path, p, "name", "description", "appliesTo", "onlyListed", "rules") {
		return s
	}
	if v, ok := n.fields["name"]; !ok {
		p.add(path+".name", "is required: kebab-case such as \"critical-services\"")
	} else if name, ok := str(v, path+".name", p); ok {
		if !IsRuleID(name) {
			p.add(path+".name", "must be kebab-case such as \"critical-services\" (lower-case letters, digits, single '-', at most %d bytes), got %q", MaxRuleIDLength, clip(name))
		}
		s.Name = name
	}
	if v, ok := n.fields["description"]; ok {
		s.Description, _ = str(v, path+".description", p)
	}
	if v, ok := n.fields["onlyListed"]; ok {
		s.OnlyListed, _ = boolean(v, path+".onlyListed", p)
	}
	if v, ok := n.fields["appliesTo"]; ok {
		s.AppliesTo = parseSelector(v, path+".appliesTo", p)
	}
	if v, ok := n.fields["rules"]; ok {
		items, _ := array(v, path+".rules", p)
		ids := map[string]int{}
		for i, it := range items {
			rp := fmt.Sprintf("%s.rules[%d]", path, i)
			o, ok := parseOverride(it, rp, set, p)
			if !ok {
				continue
			}
			if j, dup := ids[o.ID]; dup {
				p.add(rp+".id", "rule %q is already listed at %s.rules[%d]", o.ID, path, j)
				continue
			}
			ids[o.ID] = i
			s.Rules = append(s.Rules, o)
		}
	} else if s.OnlyListed {
		p.add(path+".rules", "is required when onlyListed is true")
	}
	return s
}

func parseSelector(n *node, path string, p *problems) Selector {
	var s Selector
	if !object(n, path, p, "tiers", "lifecycles", "environments", "labels") {
		return s
	}
	if v, ok := n.fields["tiers"]; ok {
		items, _ := array(v, path+".tiers", p)
		for i, it := range items {
			ip := fmt.Sprintf("%s.tiers[%d]", path, i)
			if t, ok := integer(it, ip, p); ok {
				if t < 1 || t > 4 {
					p.add(ip, "must be a tier from 1 to 4, got %d", t)
					continue
				}
				s.Tiers = append(s.Tiers, t)
			}
		}
	}
	enum := func(field string, valid []string) []string {
		var out []string
		v, ok := n.fields[field]
		if !ok {
			return nil
		}
		items, _ := array(v, path+"."+field, p)
		for i, it := range items {
			ip := fmt.Sprintf("%s.%s[%d]", path, field, i)
			if x, ok := str(it, ip, p); ok {
				if !slices.Contains(valid, x) {
					p.add(ip, "must be one of %s, got %q", strings.Join(valid, ", "), clip(x))
					continue
				}
				out = append(out, x)
			}
		}
		return out
	}
	s.Lifecycles = enum("lifecycles", []string{"experimental", "production", "deprecated"})
	s.Environments = enum("environments", []string{EnvDevelopment, EnvStaging, EnvProduction})
	if v, ok := n.fields["labels"]; ok {
		if v.kind != 'o' {
			p.add(path+".labels", "must be an object of label names to values, got %s", kindName(v))
		} else {
			s.Labels = make(map[string]string, len(v.keys))
			for _, k := range v.keys {
				kp := path + ".labels." + k
				if k == "" {
					p.add(path+".labels", "a label name must not be empty")
					continue
				}
				if x, ok := str(v.fields[k], kp, p); ok {
					s.Labels[k] = x
				}
			}
		}
	}
	return s
}

func parseOverride(n *node, path string, set RuleSet, p *problems) (RuleOverride, bool) {
	var o RuleOverride
	if !object(n, path, p, "id", "level", "weight") {
		return o, false
	}
	var rule Rule
	known := false
	if v, ok := n.fields["id"]; !ok {
		p.add(path+".id", "is required: the id of a rule of rule set %s", orDash(set.Version()))
	} else if id, ok := str(v, path+".id", p); ok {
		o.ID = id
		if rule, known = set.Rule(id); !known {
			p.add(path+".id", "unknown rule %q: %s", clip(id), suggest(id, set))
		}
	}
	if v, ok := n.fields["level"]; ok {
		if l, ok := str(v, path+".level", p); ok {
			switch Level(l) {
			case Required, Recommended, Off:
				o.Level = Level(l)
			default:
				p.add(path+".level", "must be required, recommended or off, got %q", clip(l))
			}
		}
	} else if known {
		o.Level = rule.Level
	}
	if v, ok := n.fields["weight"]; ok {
		if w, ok := integer(v, path+".weight", p); ok {
			if w < 1 || w > MaxWeight {
				p.add(path+".weight", "must be from 1 to %d, got %d (to leave a rule out, set its level to off)", MaxWeight, w)
			} else {
				o.Weight = w
			}
		}
	} else if known {
		o.Weight = rule.Weight
	}
	return o, o.ID != ""
}

// suggest names the closest rule id of set to id, or lists the ids.
func suggest(id string, set RuleSet) string {
	if best := problem.Nearest(id, set.IDs()); best != "" {
		return fmt.Sprintf("did you mean %q? (rule set %s)", best, orDash(set.Version()))
	}
	return fmt.Sprintf("rule set %s has %s", orDash(set.Version()), strings.Join(set.IDs(), ", "))
}
