package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/scrolluniversity/platform/policy/rules"
)

type recorder struct{ messages, urns []string }

func (r *recorder) ReportViolation(message, urn string) {
	r.messages = append(r.messages, message)
	r.urns = append(r.urns, urn)
}

func TestPackListsEveryRuleWithItsLevel(t *testing.T) {
	pack, err := NewPack()
	if err != nil {
		t.Fatalf("building the pack: %v", err)
	}
	if pack.Name() != PackName || pack.Version().String() != PackVersion {
		t.Errorf("pack: want %s %s, got %s %s", PackName, PackVersion, pack.Name(), pack.Version())
	}
	want := map[string]rules.Policy{}
	for _, p := range rules.Policies() {
		want[p.Name] = p
	}
	got := pack.Policies()
	if len(got) != len(want) {
		t.Errorf("policies: want %d, got %d", len(want), len(got))
	}
	for _, p := range got {
		w, ok := want[p.Name()]
		if !ok {
			t.Errorf("pack has unknown policy %s", p.Name())
			continue
		}
		if p.EnforcementLevel() != Level(w.Level) || p.Description() != w.Description {
			t.Errorf("%s: want level %s and its description, got %v %q", p.Name(), w.Level, p.EnforcementLevel(), p.Description())
		}
		if (p.ConfigSchema() != nil) != (len(w.Schema) > 0) {
			t.Errorf("%s: config schema present=%v, want %v", p.Name(), p.ConfigSchema() != nil, len(w.Schema) > 0)
		}
	}
	if Level(rules.Advisory) != policyx.EnforcementLevelAdvisory || Level(rules.Mandatory) != policyx.EnforcementLevelMandatory {
		t.Errorf("level mapping is wrong")
	}
}

func findPolicy(t *testing.T, name string) policyx.Policy {
	t.Helper()
	pack, err := NewPack()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pack.Policies() {
		if p.Name() == name {
			return p
		}
	}
	t.Fatalf("no policy %s", name)
	return nil
}

// The adapter converts the engine's properties and config, and reports what
// the rule finds.
func TestResourcePolicyThroughTheAdapter(t *testing.T) {
	p := findPolicy(t, "rds-backup-retention").(policyx.ResourceValidationPolicy)
	for _, tc := range []struct {
		name   string
		days   float64
		config map[string]any
		want   int
	}{
		{"3 days in production", 3, map[string]any{"productionLike": true}, 1},
		{"3 days in staging", 3, nil, 0},
		{"14 days in production", 14, map[string]any{"productionLike": true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			err := p.Validate(context.Background(), policyx.ResourceValidationArgs{
				Manager: rec,
				Config:  tc.config,
				Resource: policyx.AnalyzerResource{
					Type: "aws:rds/instance:Instance", URN: "urn:db", Name: "db",
					Properties: property.NewMap(map[string]property.Value{"backupRetentionPeriod": property.New(tc.days)}),
					Options:    pulumi.ResourceOptions{},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.messages) != tc.want {
				t.Fatalf("want %d violations, got %q", tc.want, rec.messages)
			}
			if tc.want > 0 && !strings.Contains(rec.messages[0], "at least 7") {
				t.Errorf("message: %q", rec.messages[0])
			}
		})
	}
}

// validateNamespaces runs the default-deny stack rule through the adapter
// over a Namespace "app" (urn:ns) and the other resources given.
func validateNamespaces(t *testing.T, others ...policyx.AnalyzerResource) *recorder {
	t.Helper()
	p := findPolicy(t, "k8s-namespace-default-deny").(policyx.StackValidationPolicy)
	rec := &recorder{}
	ns := policyx.AnalyzerResource{
		Type: "kubernetes:core/v1:Namespace", URN: "urn:ns", Name: "app",
		Properties: property.NewMap(map[string]property.Value{
			"metadata": property.New(property.NewMap(map[string]property.Value{"name": property.New("app")})),
		}),
	}
	err := p.Validate(context.Background(), policyx.StackValidationArgs{Manager: rec, Resources: append([]policyx.AnalyzerResource{ns}, others...)})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestStackPolicyThroughTheAdapter(t *testing.T) {
	rec := validateNamespaces(t)
	if len(rec.messages) != 1 || rec.urns[0] != "urn:ns" {
		t.Fatalf("want one violation on urn:ns, got %q %q", rec.messages, rec.urns)
	}
}

// A stack some of whose resources are not known yet (a first preview: the
// Kubernetes provider knows nothing of a cluster that does not exist) is
// not judged by the stack rules, which would report what they cannot see.
func TestStackPolicySkipsAStackNotYetKnown(t *testing.T) {
	rec := validateNamespaces(t, policyx.AnalyzerResource{
		Type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", URN: "urn:np", Name: "default-deny",
		Properties: property.NewMap(map[string]property.Value{"metadata": property.New(property.Computed), "spec": property.New(property.Computed)}),
	})
	if len(rec.messages) != 0 {
		t.Errorf("want no violation while a resource is unknown, got %q", rec.messages)
	}
}

// Every policy with the productionLike knob is turned on in production's
// pack config and off in staging's: a knob missing from the file leaves a
// mandatory production guard dormant (delivery review D28, Object Lock).
func TestProductionConfigTurnsOnEveryProductionGuard(t *testing.T) {
	read := func(name string) map[string]map[string]any {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]map[string]any
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	prod, staging := read("config.production.json"), read("config.staging.json")
	known := map[string]bool{}
	guarded := 0
	for _, p := range rules.Policies() {
		known[p.Name] = true
		if _, ok := p.Schema["productionLike"]; !ok {
			continue
		}
		guarded++
		if prod[p.Name]["productionLike"] != true {
			t.Errorf("config.production.json: %s.productionLike is %v, want true", p.Name, prod[p.Name]["productionLike"])
		}
		if staging[p.Name]["productionLike"] != false {
			t.Errorf("config.staging.json: %s.productionLike is %v, want false (said, not defaulted)", p.Name, staging[p.Name]["productionLike"])
		}
	}
	if guarded < 4 {
		t.Errorf("%d policies with productionLike, want at least the four production guards", guarded)
	}
	for _, c := range []map[string]map[string]any{prod, staging} {
		for name := range c {
			if !known[name] {
				t.Errorf("pack config names %s, which is no policy", name)
			}
		}
	}
}

// The pack binary links the rules and the property conversion, not the
// mock engine or the program (and so not the AWS SDK): building it stays
// quick, and what runs under the CLI is only what the rules need.
func TestPackCarriesNeitherTheMockEngineNorTheProgram(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/scrolluniversity/platform/internal/synth", "github.com/scrolluniversity/platform/infra", "github.com/scrolluniversity/platform/components", "github.com/pulumi/pulumi-aws"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("the policy pack depends on %s", dep)
			}
		}
	}
}
