// Package rules is the platform's CrossGuard policy set as plain Go: each
// rule takes a resource's type and properties (stack rules: every resource)
// and returns violations. The policy pack (policy/main.go) adapts them to
// policyx for `pulumi preview --policy-pack ./policy`; the offline
// synthesizer and `go test` run the very same functions without the CLI.
package rules

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Level is how hard a policy enforces.
type Level string

const (
	// Mandatory stops a preview or update.
	Mandatory Level = "mandatory"
	// Advisory warns.
	Advisory Level = "advisory"
	// Disabled does not run.
	Disabled Level = "disabled"
)

// Unknown is how a value not yet known (a preview of a new resource)
// arrives once converted; rules never fail on it.
const Unknown = "[unknown]"

// Resource is what a rule sees of one resource.
type Resource struct {
	URN  string
	Type string
	Name string
	// Props are the resource's properties as plain Go values (maps, slices,
	// strings, bool, int64/float64), secrets unwrapped.
	Props map[string]any
	// ProviderProps are the properties of the resource's provider (AWS
	// default tags live there).
	ProviderProps map[string]any
	// Protect is Pulumi's protect option.
	Protect bool
	// Dependencies are the URNs the resource depends on.
	Dependencies []string
}

// Config is one policy's configuration: its knobs by name.
type Config map[string]any

// Bool reads a boolean knob, or def.
func (c Config) Bool(key string, def bool) bool {
	if v, ok := c[key].(bool); ok {
		return v
	}
	return def
}

// Int reads an integer knob, or def.
func (c Config) Int(key string, def int) int {
	switch v := c[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return def
}

// Strings reads a list-of-strings knob, or def.
func (c Config) Strings(key string, def []string) []string {
	switch v := c[key].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return def
}

// Policy describes one rule: its name, what it guards, its default level and
// its knobs (JSON schema properties, with defaults).
type Policy struct {
	Name        string
	Description string
	Level       Level
	// Schema lists the policy's config knobs as JSON schema properties.
	Schema map[string]map[string]any
}

// ResourceRule checks one resource at a time.
type ResourceRule struct {
	Policy
	// Check returns one message per problem; each says what is wrong and
	// how to fix it.
	Check func(r Resource, cfg Config) []string
}

// Finding is a stack rule's verdict on one resource.
type Finding struct {
	URN     string
	Message string
}

// StackRule checks all resources together.
type StackRule struct {
	Policy
	Check func(all []Resource, cfg Config) []Finding
}

// Violation is one policy's verdict on one resource.
type Violation struct {
	Policy  string `json:"policy"`
	Level   Level  `json:"enforcementLevel"`
	URN     string `json:"urn"`
	Message string `json:"message"`
}

// PackConfig is the policy pack's configuration in the format
// `pulumi preview --policy-pack-config` reads: policy name to either a level
// ("advisory") or an object with "enforcementLevel" and the policy's knobs.
type PackConfig map[string]json.RawMessage

// Configure is the policy's knobs: the schema's defaults, then overrides.
func (p Policy) Configure(overrides map[string]any) Config {
	cfg := Config{}
	for name, prop := range p.Schema {
		if def, ok := prop["default"]; ok {
			cfg[name] = def
		}
	}
	for k, v := range overrides {
		if k != "enforcementLevel" {
			cfg[k] = v
		}
	}
	return cfg
}

// resolve gives a policy's level and knobs under the pack config.
func (pc PackConfig) resolve(p Policy) (Level, Config, error) {
	level, cfg := p.Level, p.Configure(nil)
	for _, key := range []string{"all", p.Name} {
		raw, ok := pc[key]
		if !ok {
			continue
		}
		var asLevel string
		if err := json.Unmarshal(raw, &asLevel); err == nil {
			level = Level(asLevel)
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", nil, fmt.Errorf("policy config %s: %v", key, err)
		}
		for k, v := range obj {
			if k == "enforcementLevel" {
				s, _ := v.(string)
				level = Level(s)
				continue
			}
			if key == p.Name {
				cfg[k] = v
			}
		}
	}
	switch level {
	case Mandatory, Advisory, Disabled:
	default:
		return "", nil, fmt.Errorf("policy %s: enforcement level %q, want mandatory, advisory or disabled", p.Name, level)
	}
	return level, cfg, nil
}

// Evaluate runs every rule over the resources and returns the violations,
// sorted by policy then URN.
func Evaluate(resources []Resource, pc PackConfig) ([]Violation, error) {
	var out []Violation
	for _, rule := range ResourceRules() {
		level, cfg, err := pc.resolve(rule.Policy)
		if err != nil {
			return nil, err
		}
		if level == Disabled {
			continue
		}
		for _, r := range resources {
			for _, msg := range rule.Check(r, cfg) {
				out = append(out, Violation{Policy: rule.Name, Level: level, URN: r.URN, Message: msg})
			}
		}
	}
	for _, rule := range StackRules() {
		level, cfg, err := pc.resolve(rule.Policy)
		if err != nil {
			return nil, err
		}
		if level == Disabled {
			continue
		}
		for _, f := range rule.Check(resources, cfg) {
			out = append(out, Violation{Policy: rule.Name, Level: level, URN: f.URN, Message: f.Message})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Policy != out[j].Policy {
			return out[i].Policy < out[j].Policy
		}
		return out[i].URN < out[j].URN
	})
	return out, nil
}

// MandatoryOnly returns the mandatory violations.
func MandatoryOnly(vs []Violation) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Level == Mandatory {
			out = append(out, v)
		}
	}
	return out
}

// Policies lists every policy, resource rules first, by name.
func Policies() []Policy {
	var out []Policy
	for _, r := range ResourceRules() {
		out = append(out, r.Policy)
	}
	for _, r := range StackRules() {
		out = append(out, r.Policy)
	}
	return out
}

// Get digs into plain values: Get(props, "vpcConfig", "publicAccessCidrs").
// The synthesizer's report reads resources with it too.
func Get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Copy is a deep copy of plain values (maps and lists copied, the rest
// shared); the placement check and internal/operated change copies of
// manifests with it.
func Copy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Copy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Copy(e)
		}
		return out
	}
	return v
}

// Str is a plain value as a string ("" if it is none); internal/flows and
// internal/operated read manifests with it too.
func Str(v any) string {
	s, _ := v.(string)
	return s
}

// List is a plain value as a list (nil if it is none).
func List(v any) []any {
	l, _ := v.([]any)
	return l
}

// StrMap is a plain map's values as strings (an empty map if it is none).
func StrMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := map[string]string{}
	for k, val := range m {
		out[k] = fmt.Sprint(val)
	}
	return out
}

var (
	str  = Str
	list = List
)

func strList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	}
	var out []string
	for _, e := range list(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func num(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		return int64(x), true
	}
	return 0, false
}

// Int is a plain number as an int, and whether it is one.
func Int(v any) (int, bool) {
	n, ok := num(v)
	return int(n), ok
}

// isTrue is true for true and for "true" (some AWS inputs are strings).
func isTrue(v any) bool {
	return v == true || v == "true"
}

func unknown(v any) bool {
	return v == Unknown
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// shortName is the resource's logical name for messages.
func shortName(r Resource) string {
	if r.Name != "" {
		return r.Name
	}
	if i := strings.LastIndex(r.URN, "::"); i >= 0 {
		return r.URN[i+2:]
	}
	return r.URN
}
