package synth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
