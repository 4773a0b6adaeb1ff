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
// protect option and the dependencies, as the CrossGuard engine gives them.
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
