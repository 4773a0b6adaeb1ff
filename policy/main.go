// Command policy is the CrossGuard policy pack of the ScrollUniversity
// platform, served to the Pulumi CLI with runtime go:
//
//	pulumi preview --policy-pack ./policy --policy-pack-config policy/config.production.json
//
// It only adapts the rules in policy/rules to policyx; the rules themselves
// are plain Go that the offline synthesizer and the tests run as well.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/scrolluniversity/platform/internal/plain"
	"github.com/scrolluniversity/platform/policy/rules"
)

// PackName and PackVersion identify the pack in Pulumi Cloud.
const (
	PackName    = "scrolluniversity"
	PackVersion = "1.0.0"
)

func main() {
	if err := policyx.Main(func(*pulumi.Context) (policyx.PolicyPack, error) { return NewPack() }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// NewPack builds the pack from every rule.
func NewPack() (policyx.PolicyPack, error) {
	var policies []policyx.Policy
	for _, rule := range rules.ResourceRules() {
		policies = append(policies, policyx.NewResourceValidationPolicy(rule.Name, policyx.ResourceValidationPolicyArgs{
			Description:      rule.Description,
			EnforcementLevel: Level(rule.Level),
			ConfigSchema:     schema(rule.Policy),
			ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
				for _, msg := range rule.Check(toRule(args.Resource), rule.Configure(args.Config)) {
					args.Manager.ReportViolation(msg, "")
				}
				return nil
			},
		}))
	}
	for _, rule := range rules.StackRules() {
		policies = append(policies, policyx.NewStackValidationPolicy(rule.Name, policyx.StackValidationPolicyArgs{
			Description:      rule.Description,
			EnforcementLevel: Level(rule.Level),
			ConfigSchema:     schema(rule.Policy),
			ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
				all := make([]rules.Resource, 0, len(args.Resources))
				for _, r := range args.Resources {
					// A stack rule judges how resources refer to each
					// other, which it cannot while some are unknown: in a
					// preview before the cluster exists the Kubernetes
					// provider knows nothing of its objects (every output
					// unknown, names and namespaces too), and each rule
					// would report what it cannot see as missing (the
					// end-to-end run's first preview did). Such a preview
					// skips the stack rules; the update runs them on the
					// final values, as the synthesizer and the tests do on
					// every pull request.
					if resource.ToResourcePropertyMap(r.Properties).ContainsUnknowns() {
						return nil
					}
					all = append(all, toRule(r))
				}
				// policyx passes no config to stack policies; none of ours
				// has knobs (rules with knobs are resource rules).
				for _, f := range rule.Check(all, rule.Configure(nil)) {
					args.Manager.ReportViolation(f.Message, f.URN)
				}
				return nil
			},
		}))
	}
	return policyx.NewPolicyPack(PackName, semver.MustParse(PackVersion), policyx.EnforcementLevelMandatory, policies)
}

// Level maps a rule's level to policyx's.
func Level(l rules.Level) policyx.EnforcementLevel {
	switch l {
	case rules.Advisory:
		return policyx.EnforcementLevelAdvisory
	case rules.Disabled:
		return policyx.EnforcementLevelDisabled
	}
	return policyx.EnforcementLevelMandatory
}

func schema(p rules.Policy) *policyx.ConfigSchema {
	if len(p.Schema) == 0 {
		return nil
	}
	return &policyx.ConfigSchema{Properties: p.Schema}
}

// toRule converts what the engine sends into what the rules read.
func toRule(r policyx.AnalyzerResource) rules.Resource {
	return rules.Resource{
		URN:           r.URN,
		Type:          r.Type,
		Name:          r.Name,
		Props:         plain.Map(resource.ToResourcePropertyMap(r.Properties)),
		ProviderProps: plain.Map(resource.ToResourcePropertyMap(r.Provider.Properties)),
		Protect:       r.Options.Protect,
		Dependencies:  r.Dependencies,
	}
}
