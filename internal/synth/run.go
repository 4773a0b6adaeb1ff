package synth

import (
	"context"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/plain"
)

// Resource is one registered resource as the engine saw it.
type Resource struct {
	URN    string
	Type   string
	Name   string
	Parent string
	// Custom is false for component resources.
	Custom bool
	// Dependencies are the URNs this resource depends on, sorted.
	Dependencies []string
	// DataDependencies are those whose values flow into its inputs (not
	// mere DependsOn ordering), sorted.
	DataDependencies []string
	Provider         string
	Protect          bool
	RetainOnDelete   bool
	IgnoreChanges    []string
	// CustomTimeouts are the create and update timeouts the program set
	// ("" when it set none).
	CreateTimeout, UpdateTimeout string
	ID                           string
	// Inputs are the registered inputs, secrets still wrapped.
	Inputs resource.PropertyMap
	// State is what the mock provider returned.
	State resource.PropertyMap
}

// Plain returns the inputs as plain Go values with secrets unwrapped, for
// assertions and policy rules.
func (r Resource) Plain() map[string]any { return plain.Map(r.Inputs) }

// Redacted returns the inputs as plain Go values with every secret replaced
// by "[secret]", for what the synthesizer writes.
func (r Resource) Redacted() map[string]any { return plain.RedactedMap(r.Inputs) }

// IsSecretInput reports whether the top-level input key is a secret.
func (r Resource) IsSecretInput(key string) bool {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	return ok && v.ContainsSecrets()
}

// Output is one stack output.
type Output struct {
	Value  any
	Secret bool
}

// Result is everything a run registered.
type Result struct {
	Stack string
	// Resources sorted by URN.
	Resources []Resource
	Outputs   map[string]Output
	// Charts are what each Helm release renders, once RenderCharts ran.
	Charts []Rendered
	// Runtime are the objects EKS and the operators will create, once
	// DeriveRuntime ran (internal/operated).
	Runtime []map[string]any
	// Config is the stack's config as the program read it (Run only).
	Config *config.Config
}

// ByType returns the resources of one type, sorted by URN.
func (r *Result) ByType(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// Find returns the resource of a type with a logical name.
func (r *Result) Find(typ, name string) (Resource, bool) {
	for _, res := range r.Resources {
		if res.Type == typ && res.Name == name {
			return res, true
		}
	}
	return Resource{}, false
}

// ByURN returns a resource by URN.
func (r *Result) ByURN(urn string) (Resource, bool) {
	i := sort.Search(len(r.Resources), func(i int) bool { return r.Resources[i].URN >= urn })
	if i < len(r.Resources) && r.Resources[i].URN == urn {
		return r.Resources[i], true
	}
	return Resource{}, false
}

// ProgramFunc builds the program and returns its stack outputs.
type ProgramFunc func(ctx *pulumi.Context) (map[string]pulumi.Input, error)

// Run runs the program under the mock engine with the stack's config and
// returns what it registered. A program error (a config error, say) comes
// back as the error, with whatever was registered before it.
func Run(stack *Stack, program ProgramFunc) (*Result, error) {
	// The config first, as the program will read it: on any problem
	// nothing runs and nothing is registered.
	cfg, err := Check(stack)
	if err != nil {
		return &Result{Stack: stack.Name, Outputs: map[string]Output{}}, err
	}
	res, err := RunProgram(stack, program)
	res.Config = cfg
	return res, err
}

// RunProgram runs any Pulumi program of this module (the bootstrap
// program, say) under the mock engine, without the platform's config
// check.
func RunProgram(stack *Stack, program ProgramFunc) (*Result, error) {
	region := stack.Config["aws:region"]
	m := newMocks(stack.Project, stack.Name, region)
	if m.world = stack.World; m.world == nil {
		m.world = DefaultWorld()
	}

	var (
		exports    = map[string]pulumi.Output{}
		programErr error
	)
	body := func(ctx *pulumi.Context) error {
		outputs, err := program(ctx)
		if err != nil {
			programErr = err
			return err
		}
		for name, in := range outputs {
			ctx.Export(name, in)
			exports[name] = pulumi.ToOutput(in)
		}
		return nil
	}
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = stack.Config
		info.ConfigSecretKeys = stack.SecretKeys
	}
	runErr := pulumi.RunErr(body, pulumi.WithMocks(stack.Project, stack.Name, m), withConfig)

	res := &Result{Stack: stack.Name, Outputs: map[string]Output{}}
	for _, r := range m.resources {
		res.Resources = append(res.Resources, *r)
	}
	sort.Slice(res.Resources, func(i, j int) bool { return res.Resources[i].URN < res.Resources[j].URN })
	if programErr != nil {
		// The engine wraps the program's error in a multierror; the
		// program's own message (every config problem, one a line) reads better.
		return res, programErr
	}
	if runErr != nil {
		return res, runErr
	}
	for name, o := range exports {
		// Awaited after the run, not read from an ApplyT callback: an
		// output made from a plain value (pulumi.ToStringMap of a Go map,
		// say) is not tied to the run, so the engine does not wait for its
		// callbacks, and under load one could still be pending when the
		// run returns (the outputs file then lost a value now and then).
		// UnsafeAwaitOutput blocks until the output is resolved; an
		// unknown value comes back as nil.
		got, err := internals.UnsafeAwaitOutput(context.Background(), o)
		if err != nil {
			return res, fmt.Errorf("stack output %s: %w", name, err)
		}
		res.Outputs[name] = Output{Value: got.Value, Secret: got.Secret}
	}
	return res, nil
}

// Redacted is what a secret value is written as.
const Redacted = plain.Redacted
