// Package synth runs the Pulumi program under Pulumi's mock engine with a
// stack's real configuration, records every resource it registers, and
// writes what a reviewer reads: resources.json, Kubernetes manifests, the
// dependency graph and the policy report. cmd/synth and tests/ both use it,
// so there is one mock engine, not two.
package synth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/simaws"
	"github.com/scrolluniversity/platform/internal/stackfiles"
)

// Stack is a stack's configuration as the Pulumi CLI would hand it to the
// program: fully qualified keys ("scrolluniversity:network", "aws:region")
// with string values, structured values as JSON.
type Stack struct {
	Project string
	Name    string
	// Config maps fully qualified keys to values.
	Config map[string]string
	// SecretKeys are the keys whose values are secret.
	SecretKeys []string
	// Locator finds keys in the stack file, for problems' line numbers.
	Locator config.Locator
	// World is what the simulated AWS account holds before the run (nil:
	// DefaultWorld).
	World *World
}

// World is what the simulated AWS account holds (internal/simaws).
type World = simaws.World

// MockRunnerEgress is the delivery runners' egress address in the
// simulated account (simaws.RunnerEgress).
const MockRunnerEgress = simaws.RunnerEgress

// DefaultWorld is the simulated account as of 2026-12-02 (simaws.DefaultWorld).
func DefaultWorld() *World { return simaws.DefaultWorld() }

type projectFile struct {
	Name   string                    `yaml:"name"`
	Config map[string]projectSetting `yaml:"config"`
}

type projectSetting struct {
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
	Secret      bool   `yaml:"secret"`
	Default     any    `yaml:"default"`
}

type stackFile struct {
	Config map[string]any `yaml:"config"`
}

// StandIn is the value the synthesizer gives a secret it cannot decrypt
// (`secure:` values need the stack's secrets provider).
func StandIn(key string) string {
	return "synth-stand-in-for-" + strings.ReplaceAll(key, ":", "-")
}

// LoadStack reads Pulumi.yaml (project name and declared defaults) and
// Pulumi.<stack>.yaml from dir. Stack values override project defaults,
// as in the Pulumi CLI.
func LoadStack(dir, stack string) (*Stack, error) {
	fileName := "Pulumi." + stack + ".yaml"
	data, err := os.ReadFile(filepath.Join(dir, fileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no stack %q: %s does not exist; the stacks here are %s", stack, filepath.Join(dir, fileName), strings.Join(Stacks(dir), ", "))
	}
	if err != nil {
		return nil, err
	}
	// The stack file's own YAML first: a syntax error names the file and
	// its line (Pulumi's loader below would report a line of its own
	// conversion).
	loc, err := config.LocateYAML(fileName, data)
	if err != nil {
		return nil, err
	}
	// Pulumi's own loaders validate both files, exactly as the CLI will: a
	// project file the CLI would refuse fails here too.
	proj, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	if _, err := workspace.LoadProjectStack(sink, proj, filepath.Join(dir, "Pulumi."+stack+".yaml")); err != nil {
		return nil, fmt.Errorf("stack %q: %w", stack, err)
	}
	var project projectFile
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &project); err != nil {
		return nil, err
	}
	if project.Name == "" {
		return nil, fmt.Errorf("Pulumi.yaml: no project name")
	}
	path := filepath.Join(dir, fileName)
	var sf stackFile
	if err := yaml.Unmarshal(data, &sf); err != nil {
		return nil, fmt.Errorf("stack %q: %s: %w", stack, path, err)
	}
	s := &Stack{Project: project.Name, Name: stack, Config: map[string]string{}, Locator: loc}
	qualify := func(key string) string {
		if strings.Contains(key, ":") {
			return key
		}
		return project.Name + ":" + key
	}
	for key, setting := range project.Config {
		if setting.Default != nil {
			v, err := configString(setting.Default)
			if err != nil {
				return nil, fmt.Errorf("Pulumi.yaml: config %s default: %w", key, err)
			}
			s.Config[qualify(key)] = v
		}
	}
	for key, value := range sf.Config {
		full := qualify(key)
		if m, ok := value.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			s.Config[full] = StandIn(full)
			s.SecretKeys = append(s.SecretKeys, full)
			continue
		}
		v, err := configString(value)
		if err != nil {
			return nil, fmt.Errorf("%s: config %s: %w", path, key, err)
		}
		s.Config[full] = v
	}
	// Secrets declared by the project but not in the stack file (they live
	// encrypted in Pulumi's config, set with `pulumi config set --secret`)
	// get stand-ins, so the program runs offline exactly as with real values.
	for key, setting := range project.Config {
		full := qualify(key)
		if _, ok := s.Config[full]; setting.Secret && !ok {
			s.Config[full] = StandIn(full)
			s.SecretKeys = append(s.SecretKeys, full)
		}
	}
	sort.Strings(s.SecretKeys)
	return s, nil
}

// Set overrides one config value (a fully qualified key; structured values
// are marshalled to JSON). Tests use it to make a stack bad on purpose.
func (s *Stack) Set(key string, value any) error {
	v, err := configString(value)
	if err != nil {
		return err
	}
	s.Config[key] = v
	return nil
}

// Clone copies the stack so that a test can change it freely. The copy has
// no Locator: its values no longer match the file's lines, so its problems
// name keys only.
func (s *Stack) Clone() *Stack {
	c := &Stack{Project: s.Project, Name: s.Name, Config: map[string]string{}, SecretKeys: append([]string(nil), s.SecretKeys...)}
	for k, v := range s.Config {
		c.Config[k] = v
	}
	return c
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// configString renders a config value as the CLI passes it: strings as they
// are, everything else as JSON.
func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Stacks are the stacks whose files are in dir, sorted.
func Stacks(dir string) []string { return stackfiles.Names(dir) }

// Check reads the stack's config exactly as the program will, plus what
// only the stack file shows (unknown keys of any namespace), and returns
// every problem placed on its line of the stack file.
func Check(s *Stack) (*config.Config, error) {
	cfg, err := config.ParseChecked(s.Project, s.Name, s.Config, func(key string) bool { return slices.Contains(s.SecretKeys, key) })
	if ps, ok := err.(config.Problems); ok {
		return nil, ps.Locate(s.Locator)
	}
	return cfg, err
}
