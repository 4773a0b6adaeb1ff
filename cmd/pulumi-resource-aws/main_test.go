package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/scrolluniversity/platform/internal/simaws"
)

func props(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := marshal(resource.NewPropertyMapFromMap(m))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDiffIsAnUpdateOfWhatChanged(t *testing.T) {
	old := map[string]any{"name": "a", "tags": map[string]any{"x": "1"}, "__defaults": []any{}}
	cases := []struct {
		name    string
		news    *structpb.Struct
		ignore  []string
		changes pulumirpc.DiffResponse_DiffChanges
		diffs   []string
	}{
		{"the same inputs", props(t, map[string]any{"name": "a", "tags": map[string]any{"x": "1"}}), nil, pulumirpc.DiffResponse_DIFF_NONE, nil},
		{"a changed tag", props(t, map[string]any{"name": "a", "tags": map[string]any{"x": "2"}}), nil, pulumirpc.DiffResponse_DIFF_SOME, []string{"tags"}},
		{"a changed tag, ignored", props(t, map[string]any{"name": "a", "tags": map[string]any{"x": "2"}}), []string{"tags"}, pulumirpc.DiffResponse_DIFF_NONE, nil},
		{"a key removed and one added", props(t, map[string]any{"tags": map[string]any{"x": "1"}, "policy": "{}"}), nil, pulumirpc.DiffResponse_DIFF_SOME, []string{"name", "policy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := diff(&pulumirpc.DiffRequest{OldInputs: props(t, old), News: tc.news, IgnoreChanges: tc.ignore})
			if err != nil {
				t.Fatal(err)
			}
			if d.GetChanges() != tc.changes || !slices.Equal(d.GetDiffs(), tc.diffs) {
				t.Errorf("got %v %v, want %v %v", d.GetChanges(), d.GetDiffs(), tc.changes, tc.diffs)
			}
			for _, k := range tc.diffs {
				if d.GetDetailedDiff()[k].GetKind() != pulumirpc.PropertyDiff_UPDATE {
					t.Errorf("%s: %v, want an update in place", k, d.GetDetailedDiff()[k])
				}
			}
		})
	}
	// A value not known yet is a change.
	unknown := resource.PropertyMap{"name": resource.MakeComputed(resource.NewProperty(""))}
	news, err := marshal(unknown)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := diff(&pulumirpc.DiffRequest{OldInputs: props(t, map[string]any{"name": "a"}), News: news}); d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME {
		t.Errorf("an unknown new value: %v, want a change", d.GetChanges())
	}
}

const bucketURN = "urn:pulumi:staging::scrolluniversity::aws:s3/bucketV2:BucketV2::uploads"

// A create answers with simaws's table (the mock engine's); its preview
// leaves what the provider computes unknown, as the real one does.
func TestCreateAnswersWithTheSharedTable(t *testing.T) {
	s := &server{region: "us-east-1"}
	in := map[string]any{"bucket": "scrolluniversity-staging-uploads"}
	got, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: bucketURN, Properties: props(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	wantID, want := simaws.Outputs(bucketURN, "aws:s3/bucketV2:BucketV2", "uploads", "us-east-1", resource.NewPropertyMapFromMap(in))
	state, err := unmarshal(got.GetProperties())
	if err != nil {
		t.Fatal(err)
	}
	if got.GetId() != wantID || !state.DeepEquals(want) {
		t.Errorf("create: %s %v, want simaws's %s %v", got.GetId(), state, wantID, want)
	}

	pre, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: bucketURN, Properties: props(t, in), Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	state, err = unmarshal(pre.GetProperties())
	if err != nil {
		t.Fatal(err)
	}
	if !state["arn"].IsComputed() || state["bucket"].StringValue() != "scrolluniversity-staging-uploads" {
		t.Errorf("preview: arn %v (want unknown), bucket %v (want the input)", state["arn"], state["bucket"])
	}
}

// The EKS cluster it makes is the simulated cluster, and it remembers the
// cluster's version for the preflight until the cluster is deleted.
func TestTheClusterIsTheSimulatedOne(t *testing.T) {
	t.Setenv("SIMAWS_EKS_ENDPOINT", "https://127.0.0.1:6443")
	t.Setenv("SIMAWS_EKS_CA", "Q0E=")
	statePath := filepath.Join(t.TempDir(), "simaws.json")
	deleted := filepath.Join(t.TempDir(), "deleted")
	s := &server{region: "us-east-1", statePath: statePath, deletedPath: deleted}
	urn := "urn:pulumi:staging::scrolluniversity::aws:eks/cluster:Cluster::cluster"
	got, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn, Properties: props(t, map[string]any{"name": "scrolluniversity-staging", "version": "1.36"})})
	if err != nil {
		t.Fatal(err)
	}
	state, err := unmarshal(got.GetProperties())
	if err != nil {
		t.Fatal(err)
	}
	if state["endpoint"].StringValue() != "https://127.0.0.1:6443" || state["certificateAuthority"].ObjectValue()["data"].StringValue() != "Q0E=" {
		t.Errorf("endpoint %v, CA %v: want the simulated cluster's", state["endpoint"], state["certificateAuthority"])
	}
	read := func() map[string]string {
		b, err := os.ReadFile(statePath)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := read(); m[got.GetId()] != "1.36" {
		t.Errorf("clusters recorded %v, want %s at 1.36", m, got.GetId())
	}
	if _, err := s.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn, Id: got.GetId()}); err != nil {
		t.Fatal(err)
	}
	if m := read(); len(m) != 0 {
		t.Errorf("clusters recorded after the delete: %v", m)
	}
	if _, err := s.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: bucketURN, Id: "b"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(deleted); string(b) != urn+"\n"+bucketURN+"\n" {
		t.Errorf("deleted log %q, want the cluster's and the bucket's URNs", b)
	}
}
