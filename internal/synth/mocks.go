package synth

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/internal/simaws"
)

// Fixed identities the mock engine answers with, so that two runs are
// byte-identical.
const (
	// MockAccountID is the simulated AWS account (internal/simaws's).
	MockAccountID = simaws.AccountID
	// MockPassword is what every random password resolves to; it is secret
	// in every output, so it never appears in what the synthesizer writes.
	MockPassword = "mock-password-0123456789abcdef"
)

// mocks implements pulumi.MockResourceMonitor: it answers every resource
// registration with realistic, deterministic outputs per type and records
// what was registered.
type mocks struct {
	project, stack, region string
	world                  *World

	mu        sync.Mutex
	resources map[string]*Resource
}

func newMocks(project, stack, region string) *mocks {
	return &mocks{project: project, stack: stack, region: region, resources: map[string]*Resource{}}
}

func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// NewResource records a registration and returns its ID and state.
func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := &Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Dependencies = append([]string(nil), rpc.GetDependencies()...)
		sort.Strings(r.Dependencies)
		data := map[string]bool{}
		for _, deps := range rpc.GetPropertyDependencies() {
			for _, urn := range deps.GetUrns() {
				data[urn] = true
			}
		}
		for urn := range data {
			r.DataDependencies = append(r.DataDependencies, urn)
		}
		sort.Strings(r.DataDependencies)
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.IgnoreChanges = append([]string(nil), rpc.GetIgnoreChanges()...)
		if ct := rpc.GetCustomTimeouts(); ct != nil {
			r.CreateTimeout, r.UpdateTimeout = ct.GetCreate(), ct.GetUpdate()
		}
	}
	if rpc := args.ReadRPC; rpc != nil {
		r.Parent = rpc.GetParent()
	}
	r.URN = m.urn(r.Parent, r.Type, r.Name)
	if p := args.Provider; p != "" {
		r.Provider = p[:strings.LastIndex(p, "::")]
	}

	id, state := m.outputs(r)
	if !args.Custom {
		id = ""
	}
	r.ID = id
	r.State = state

	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.resources[r.URN]; dup {
		return "", nil, fmt.Errorf("duplicate resource URN %s", r.URN)
	}
	m.resources[r.URN] = r
	return id, state, nil
}

// outputs computes what the provider would return: for AWS, simaws's
// table, the one the simulated AWS provider of the end-to-end run answers
// with too; for the random provider, which the mock engine lacks (the
// end-to-end run has the real one), fixed values.
func (m *mocks) outputs(r *Resource) (string, resource.PropertyMap) {
	if strings.HasPrefix(r.Type, "random:") {
		return randomOutputs(r)
	}
	return simaws.Outputs(r.URN, r.Type, r.Name, m.region, r.Inputs)
}

// randomOutputs are the random provider's outputs the program reads,
// deterministic in the resource's URN.
func randomOutputs(r *Resource) (string, resource.PropertyMap) {
	state := r.Inputs.Copy()
	d := simaws.Digest(r.URN)
	switch r.Type {
	case "random:index/randomPassword:RandomPassword":
		state["result"] = resource.NewStringProperty(MockPassword)
		state["bcryptHash"] = resource.NewStringProperty("$2a$10$mock")
	case "random:index/randomId:RandomId":
		state["hex"] = resource.NewStringProperty(d[:16])
		state["b64Url"] = resource.NewStringProperty(base64.RawURLEncoding.EncodeToString([]byte(d[:12])))
	}
	return r.Name + "-" + d[:8], state
}

// Call answers provider functions (invokes) from simaws's table.
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return simaws.Invoke(m.world, m.region, args.Token, args.Args)
}
