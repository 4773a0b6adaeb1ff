// Command pulumi-resource-aws is the simulated AWS provider of the
// end-to-end run (cmd/e2e): a Pulumi resource provider plugin that answers
// as `aws` at the version the program asks for, with the outputs the mock
// engine gives (internal/simaws, one table for both), so that the real
// engine can run the whole program without an AWS account. The real AWS
// provider cannot be built from what this machine reaches.
//
// Simulated, and labelled so wherever its results are reported: it
// creates nothing, every change is an update in place (the real provider
// replaces some), and refresh finds what the last update wrote. The EKS
// cluster it "creates" is the simulated cluster of cmd/e2e: its endpoint
// and CA come from $SIMAWS_EKS_ENDPOINT and $SIMAWS_EKS_CA, and the
// clusters it made (for the program's preflight, which asks for the
// running version) are kept in $SIMAWS_STATE; $SIMAWS_ACCOUNT_ID is the
// account it answers for (the mock engine's, the AWS documentation's
// example, otherwise). Every resource it is asked to delete is appended to
// $SIMAWS_DELETED, one URN a line, so that a run can show what a destroy
// deleted and what it kept.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/scrolluniversity/platform/internal/simaws"
)

// Version is the AWS provider version the program's SDK asks for
// (go.mod's github.com/pulumi/pulumi-aws/sdk/v6).
const Version = "6.83.4"

func main() {
	if id := os.Getenv("SIMAWS_ACCOUNT_ID"); id != "" {
		simaws.Account = id
	}
	if err := provider.Main("aws", func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &server{region: "us-east-1", statePath: os.Getenv("SIMAWS_STATE"), deletedPath: os.Getenv("SIMAWS_DELETED")}, nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-resource-aws (simulated):", err)
		os.Exit(1)
	}
}

type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	mu          sync.Mutex
	region      string
	statePath   string
	deletedPath string
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: false}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

// world is the simulated account with the clusters this provider made.
func (s *server) world() (*simaws.World, error) {
	w := simaws.DefaultWorld()
	clusters, err := s.clusters()
	if err != nil {
		return nil, err
	}
	w.Clusters = clusters
	return w, nil
}

func (s *server) clusters() (map[string]string, error) {
	out := map[string]string{}
	if s.statePath == "" {
		return out, nil
	}
	b, err := os.ReadFile(s.statePath)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return out, json.Unmarshal(b, &out)
}

// recordCluster keeps (version != "") or forgets an EKS cluster.
func (s *server) recordCluster(name, version string) error {
	if s.statePath == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.clusters()
	if err != nil {
		return err
	}
	if version == "" {
		delete(c, name)
	} else {
		c[name] = version
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(s.statePath, b, 0o644)
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (s *server) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true, AcceptOutputs: false}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: `{"name":"aws","version":"` + Version + `"}`}, nil
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return diff(req)
}

func (s *server) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	if r, ok := req.GetVariables()["aws:config:region"]; ok && r != "" {
		s.region = r
	}
	if args := req.GetArgs(); args != nil {
		if r, ok := args.GetFields()["region"]; ok && r.GetStringValue() != "" {
			s.region = r.GetStringValue()
		}
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// diff compares the new inputs with the old ones: every changed top-level
// key is an update in place (simulated; the real provider replaces on
// some).
func diff(req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOldInputs()
	if olds == nil {
		olds = req.GetOlds()
	}
	o, err := unmarshal(olds)
	if err != nil {
		return nil, err
	}
	n, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, k := range unionKeys(o, n) {
		if slices.Contains(req.GetIgnoreChanges(), string(k)) {
			continue
		}
		ov, oOK := o[k]
		nv, nOK := n[k]
		if oOK != nOK || !ov.DeepEquals(nv) || nv.ContainsUnknowns() {
			changed = append(changed, string(k))
		}
	}
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, k := range changed {
		detailed[k] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE, InputDiff: true}
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed, DetailedDiff: detailed, HasDetailedDiff: true}, nil
}

func unionKeys(a, b resource.PropertyMap) []resource.PropertyKey {
	seen := map[resource.PropertyKey]bool{}
	var out []resource.PropertyKey
	for _, m := range []resource.PropertyMap{a, b} {
		for k := range m {
			if !seen[k] && !strings.HasPrefix(string(k), "__") {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return diff(req)
}

// outputs is simaws's table, with the EKS cluster pointed at the
// simulated cluster.
func (s *server) outputs(urn string, news *structpb.Struct) (string, *structpb.Struct, error) {
	in, err := unmarshal(news)
	if err != nil {
		return "", nil, err
	}
	u := resource.URN(urn)
	typ := string(u.Type())
	id, state := simaws.Outputs(urn, typ, u.Name(), s.region, in)
	if typ == "aws:eks/cluster:Cluster" {
		if ep := os.Getenv("SIMAWS_EKS_ENDPOINT"); ep != "" {
			state["endpoint"] = resource.NewProperty(ep)
		}
		if ca := os.Getenv("SIMAWS_EKS_CA"); ca != "" {
			state["certificateAuthority"] = resource.NewProperty(resource.PropertyMap{"data": resource.NewProperty(ca)})
		}
		version := "1.36"
		if v, ok := in["version"]; ok && v.IsString() {
			version = v.StringValue()
		}
		if !in.ContainsUnknowns() {
			if err := s.recordCluster(id, version); err != nil {
				return "", nil, err
			}
		}
	}
	out, err := marshal(state)
	return id, out, err
}

// previewOutputs are the inputs, and every property the provider computes
// unknown, as the real provider previews a resource it has yet to make.
func (s *server) previewOutputs(urn string, news *structpb.Struct) (*structpb.Struct, error) {
	in, err := unmarshal(news)
	if err != nil {
		return nil, err
	}
	u := resource.URN(urn)
	_, state := simaws.Outputs(urn, string(u.Type()), u.Name(), s.region, in)
	for k, v := range state {
		if old, ok := in[k]; !ok || !old.DeepEquals(v) {
			state[k] = resource.MakeComputed(resource.NewProperty(""))
		}
	}
	return marshal(state)
}

func (s *server) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if req.GetPreview() {
		props, err := s.previewOutputs(req.GetUrn(), req.GetProperties())
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	id, props, err := s.outputs(req.GetUrn(), req.GetProperties())
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, err
}

func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	// What the last update wrote is what there is: a simulated account
	// does not drift.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (s *server) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if req.GetPreview() {
		props, err := s.previewOutputs(req.GetUrn(), req.GetNews())
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	_, props, err := s.outputs(req.GetUrn(), req.GetNews())
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func (s *server) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if resource.URN(req.GetUrn()).Type() == "aws:eks/cluster:Cluster" {
		if err := s.recordCluster(req.GetId(), ""); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, s.recordDeleted(req.GetUrn())
}

// recordDeleted appends a deleted resource's URN to $SIMAWS_DELETED.
func (s *server) recordDeleted(urn string) error {
	if s.deletedPath == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.deletedPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, urn); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	w, err := s.world()
	if err != nil {
		return nil, err
	}
	ret, err := simaws.Invoke(w, s.region, req.GetTok(), args)
	if err != nil {
		return &pulumirpc.InvokeResponse{Failures: []*pulumirpc.CheckFailure{{Reason: err.Error()}}}, nil
	}
	out, err := marshal(ret)
	return &pulumirpc.InvokeResponse{Return: out}, err
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
