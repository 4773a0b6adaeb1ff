// Package stackfiles is the one list of the platform's stacks: one per
// Pulumi.<stack>.yaml beside Pulumi.yaml. CI, the workflows (through
// cmd/stacks), the bootstrap and the tests take the stacks and what the
// delivery needs of each from here, so that a new stack file is covered
// without another list to edit.
//
// It reads only the few keys the delivery needs, with a YAML parser and
// nothing of the program, so that a workflow job lists the stacks in
// seconds; tests/stackfiles_test.go holds it to infra/config's reading of
// the same keys.
package stackfiles

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Stack is what the delivery needs of one stack file.
type Stack struct {
	// Stack is the stack's name, from its file name.
	Stack string `json:"stack"`
	// Region is its aws:region, where the delivery's credentials point.
	Region string `json:"region"`
	// Guarded is the file's guards.protect: the stack holds production
	// data, so a pull request's preview of it (which decrypts its
	// secrets) waits for a reviewer, and the policy pack judges it as
	// production.
	Guarded bool `json:"guarded"`
	// DeployRole is cluster.deployerRoleArn, the role `pulumi up` runs
	// with; PreviewRole the one of cluster.viewerRoleArns the bootstrap
	// made for previews (named <name>-<stack>-preview).
	DeployRole  string `json:"deployRole"`
	PreviewRole string `json:"previewRole"`
	// PreviewEnvironment is the GitHub environment a pull request's
	// preview runs in: <stack>-preview for a guarded stack (its required
	// reviewers approve), none otherwise.
	PreviewEnvironment string `json:"previewEnvironment"`
	// PolicyConfig is the policy pack's config of the stack,
	// policy/config.<stack>.json, or "" when it has none (every knob at
	// its default, which the synthesizer holds to the stack's guards).
	PolicyConfig string `json:"policyConfig"`
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// Names lists the stacks of dir, sorted.
func Names(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Read reads what the delivery needs of every stack file of dir.
func Read(dir string) ([]Stack, error) {
	names := Names(dir)
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no Pulumi.<stack>.yaml", dir)
	}
	var out []Stack
	var problems []string
	for _, name := range names {
		s, err := ReadOne(dir, name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, s)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return out, nil
}

// ReadOne reads one stack file of dir.
func ReadOne(dir, name string) (Stack, error) {
	file := "Pulumi." + name + ".yaml"
	if !nameRE.MatchString(name) {
		return Stack{}, fmt.Errorf("%s: stack name %q: want lower-case letters, digits and dashes, 2 to 32 (it names a GitHub environment, IAM roles and AWS resources)", file, name)
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return Stack{}, err
	}
	var doc struct {
		Config struct {
			Region string `yaml:"aws:region"`
			Guards struct {
				Protect bool `yaml:"protect"`
			} `yaml:"scrolluniversity:guards"`
			Cluster struct {
				DeployerRoleArn string   `yaml:"deployerRoleArn"`
				ViewerRoleArns  []string `yaml:"viewerRoleArns"`
			} `yaml:"scrolluniversity:cluster"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Stack{}, fmt.Errorf("%s: %w", file, err)
	}
	s := Stack{Stack: name, Region: doc.Config.Region, Guarded: doc.Config.Guards.Protect, DeployRole: doc.Config.Cluster.DeployerRoleArn}
	if s.Guarded {
		s.PreviewEnvironment = name + "-preview"
	}
	if _, err := os.Stat(filepath.Join(dir, "policy", "config."+name+".json")); err == nil {
		s.PolicyConfig = "policy/config." + name + ".json"
	}
	for _, arn := range doc.Config.Cluster.ViewerRoleArns {
		if strings.HasSuffix(arn, "-"+name+"-preview") && strings.Contains(arn, ":role/") {
			s.PreviewRole = arn
		}
	}
	switch {
	case s.Region == "":
		return s, fmt.Errorf("%s: aws:region is not set; the workflows' credentials need the stack's region", file)
	case !strings.HasSuffix(s.DeployRole, "-"+name+"-deploy") || !strings.Contains(s.DeployRole, ":role/"):
		return s, fmt.Errorf("%s: scrolluniversity:cluster.deployerRoleArn = %q: want the bootstrap's deploy role of %s, arn:aws:iam::<account>:role/<name>-%s-deploy", file, s.DeployRole, name, name)
	case s.PreviewRole == "":
		return s, fmt.Errorf("%s: scrolluniversity:cluster.viewerRoleArns = %v: want the bootstrap's preview role of %s among them, arn:aws:iam::<account>:role/<name>-%s-preview", file, doc.Config.Cluster.ViewerRoleArns, name, name)
	}
	return s, nil
}

// Select is the stacks of all whose guards.protect is *guarded (any when
// nil) and, when only is set, that one: cmd/stacks's filter, which the
// workflows' matrices are. A stack named that has no file is an error
// naming the stacks; one of the other kind is an empty list.
func Select(all []Stack, guarded *bool, only string) ([]Stack, error) {
	out := []Stack{}
	found := only == ""
	var names []string
	for _, s := range all {
		names = append(names, s.Stack)
		if only != "" && s.Stack != only {
			continue
		}
		found = true
		if guarded == nil || s.Guarded == *guarded {
			out = append(out, s)
		}
	}
	if !found {
		return nil, fmt.Errorf("stack %q: no Pulumi.%s.yaml; the stacks are %v", only, only, names)
	}
	return out, nil
}

// WithoutSecrets is a stack file's text as a stack of another backend and
// secrets provider needs it: its secrets provider, salt and encrypted key
// removed, and every config value the CLI encrypted (`secure:`) dropped,
// since no other secrets provider can decrypt it. It returns the keys it
// dropped, which the caller sets again (cmd/e2e sets stand-ins). Comments
// and order stay as they were.
func WithoutSecrets(file string, b []byte) ([]byte, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: not a mapping of settings", file)
	}
	top := doc.Content[0]
	var dropped []string
	top.Content = dropPairs(top.Content, func(key string, value *yaml.Node) bool {
		switch key {
		case "secretsprovider", "encryptionsalt", "encryptedkey":
			return true
		case "config":
			if value.Kind == yaml.MappingNode {
				value.Content = dropPairs(value.Content, func(key string, value *yaml.Node) bool {
					if isSecure(value) {
						dropped = append(dropped, key)
						return true
					}
					return false
				})
			}
		}
		return false
	})
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	sort.Strings(dropped)
	return out.Bytes(), dropped, nil
}

// dropPairs keeps a mapping node's key-value pairs for which drop is false.
func dropPairs(pairs []*yaml.Node, drop func(string, *yaml.Node) bool) []*yaml.Node {
	var kept []*yaml.Node
	for i := 0; i+1 < len(pairs); i += 2 {
		if !drop(pairs[i].Value, pairs[i+1]) {
			kept = append(kept, pairs[i], pairs[i+1])
		}
	}
	return kept
}

// isSecure says whether a config value is one the CLI encrypted: a
// mapping {secure: <ciphertext>}.
func isSecure(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "secure"
}
