package synth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scrolluniversity/platform/policy/rules"
)

// PolicyResources converts what a run registered into what the policy rules
// read: properties with secrets unwrapped, the provider's properties, the
// protect option and the dependencies, as the CrossGuard engine gives them;
// then the objects of every rendered Helm release and the runtime Services.
func PolicyResources(res *Result) []rules.Resource {
	out := make([]rules.Resource, 0, len(res.Resources))
	for _, r := range res.Resources {
		pr := rules.Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Props: r.Plain(),
			Protect: r.Protect, Dependencies: r.Dependencies,
		}
		if p, ok := res.ByURN(r.Provider); ok {
			pr.ProviderProps = p.Plain()
		}
		out = append(out, pr)
	}
	out = append(out, chartPolicyResources(res)...)
	return append(out, runtimeServices(res)...)
}

// runtimeServices are the Services EKS and the operators create
// (res.Runtime), given to the rules so that a ServiceMonitor of a chart
// that scrapes one (the API server's, the kubelets') is judged against it.
// The derived workloads are not judged: the rules judge what the stack
// writes, and those pods are the operators' to shape.
func runtimeServices(res *Result) []rules.Resource {
	var out []rules.Resource
	for _, o := range res.Runtime {
		if str(o["kind"]) != "Service" {
			continue
		}
		meta, _ := o["metadata"].(map[string]any)
		name := str(meta["name"])
		out = append(out, rules.Resource{
			URN:  "runtime::" + TypeToken("v1", "Service") + "::" + str(meta["namespace"]) + "/" + name,
			Type: TypeToken("v1", "Service"), Name: name, Props: o,
		})
	}
	return out
}

// LoadPolicyConfig reads a pack config file in `--policy-pack-config`
// format; a missing file means the pack's defaults.
func LoadPolicyConfig(path string) (rules.PackConfig, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return rules.PackConfig{}, nil
	}
	if err != nil {
		return nil, err
	}
	var pc rules.PackConfig
	if err := json.Unmarshal(b, &pc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pc, nil
}

// CheckPolicies runs every policy over the result.
func CheckPolicies(res *Result, pc rules.PackConfig) (rules.Report, error) {
	return rules.Run(PolicyResources(res), pc)
}

// WritePolicy writes policy.json: every policy that ran with its level and
// how many resources it judged, then every violation (policy, enforcement
// level, resource urn, message), sorted.
func WritePolicy(r rules.Report, dir string) error {
	return writeJSON(filepath.Join(dir, "policy.json"), r)
}

// GuardsAgree checks a stack's pack config against its stack file: every
// policy with a productionLike knob must have it equal to the stack's
// guards.protect (the stack file's word for "holds production data"), so
// that a stack that guards its data is judged as production and one whose
// file is new needs no pack config unless it does. file is where the pack
// config was read from (it may not exist: every knob is then its default).
func GuardsAgree(pc rules.PackConfig, protect bool, file, stack string) error {
	var disagree []string
	for _, p := range rules.Policies() {
		if _, ok := p.Schema["productionLike"]; !ok {
			continue
		}
		var overrides map[string]any
		if raw, ok := pc[p.Name]; ok {
			if err := json.Unmarshal(raw, &overrides); err != nil {
				return fmt.Errorf("%s: %s: %w", file, p.Name, err)
			}
		}
		if p.Configure(overrides).Bool("productionLike", false) != protect {
			disagree = append(disagree, p.Name)
		}
	}
	if len(disagree) > 0 {
		return fmt.Errorf("%s: Pulumi.%s.yaml has guards.protect: %v, but the policies %s have productionLike %v; set each to {\"productionLike\": %v} in this file, which `pulumi preview --policy-pack-config` reads",
			file, stack, protect, strings.Join(disagree, ", "), !protect, protect)
	}
	return nil
}
