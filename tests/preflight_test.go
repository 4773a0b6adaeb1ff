package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/foundation"
	"github.com/scrolluniversity/platform/internal/synth"
)

// The preflight asks AWS (here the mock account's World) before anything
// but the AWS provider is registered, and refuses what EKS would refuse or
// undo: a version out of standard support, a downgrade, a jump of two
// minors, an add-on pin AWS does not publish. A running cluster one minor
// behind is an ordinary upgrade.
func TestPreflightRefusesWhatEKSWould(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		world func(w *synth.World)
		// want is in the error; "" means the run succeeds.
		want string
	}{
		{"a new cluster", func(w *synth.World) {}, ""},
		{"an upgrade by one minor", func(w *synth.World) { w.Clusters["scrolluniversity-staging"] = "1.35" }, ""},
		{"the running version", func(w *synth.World) { w.Clusters["scrolluniversity-staging"] = "1.36" }, ""},
		{"a jump of two minors", func(w *synth.World) { w.Clusters["scrolluniversity-staging"] = "1.34" },
			`scrolluniversity:cluster.kubernetesVersion = "1.36": cluster scrolluniversity-staging runs 1.34 and EKS upgrades one minor at a time: set 1.35`},
		{"a downgrade after EKS upgraded the cluster", func(w *synth.World) { w.Clusters["scrolluniversity-staging"] = "1.37" },
			`cluster scrolluniversity-staging runs 1.37 (EKS upgrades clusters at the end of standard support) and cannot be downgraded: set 1.37`},
		{"a version that left standard support", func(w *synth.World) {
			delete(w.StandardSupport, "1.36")
			w.StandardSupport["1.37"] = "2027-12-01T00:00:00Z"
		}, `scrolluniversity:cluster.kubernetesVersion = "1.36": not in EKS standard support (AWS lists 1.35, 1.37)`},
		{"an add-on pin newer than AWS publishes", func(w *synth.World) { w.LatestAddons["coredns"] = "v1.14.6-eksbuild.3" },
			`scrolluniversity:cluster.addonVersions.coredns = "v1.14.6-eksbuild.4": newer than any coredns AWS publishes for Kubernetes 1.36 (the newest is v1.14.6-eksbuild.3)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := loadStack(t, "staging").Clone()
			s.World = synth.DefaultWorld()
			tc.world(s.World)
			res, err := synth.Run(s, infra.Deploy)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing\n  %s\ngot %v", tc.want, err)
			}
			for _, r := range res.Resources {
				if r.Type != "pulumi:providers:aws" {
					t.Errorf("registered before the preflight refused: %s", r.URN)
				}
			}
		})
	}
}

func TestCompareAddonVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"v1.14.6-eksbuild.4", "v1.14.6-eksbuild.4", 0},
		{"v1.14.6-eksbuild.10", "v1.14.6-eksbuild.9", 1},
		{"v1.9.0-eksbuild.1", "v1.10.0-eksbuild.1", -1},
		{"v2.0.0-eksbuild.1", "v1.99.9-eksbuild.99", 1},
		{"junk", "v0.0.1-eksbuild.1", -1},
	} {
		if got := foundation.CompareAddonVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareAddonVersions(%s, %s): want %d, got %d", tc.a, tc.b, tc.want, got)
		}
	}
}

// The committed stack files hold placeholders (documentation ranges, the
// example account, example zone IDs and keys): `pulumi up` (the real
// program) refuses them, naming every one, before anything is registered;
// `pulumi preview` runs and warns; the offline synthesizer keeps them.
func TestPlaceholdersAreRefusedByUp(t *testing.T) {
	t.Parallel()
	program := func(ctx *pulumi.Context) (map[string]pulumi.Input, error) {
		return nil, infra.Program(ctx)
	}
	res, err := synth.Run(loadStack(t, "production"), program)
	if err == nil {
		t.Fatal("pulumi up with the committed placeholders: want an error")
	}
	for _, want := range []string{
		`scrolluniversity:cluster.deployerRoleArn = "arn:aws:iam::123456789012:role/scrolluniversity-production-deploy"`,
		`scrolluniversity:cluster.viewerRoleArns[0] = "arn:aws:iam::123456789012:role/scrolluniversity-production-preview"`,
		`scrolluniversity:cluster.adminRoleArns[0]`,
		`scrolluniversity:app.route53ZoneId`,
		`scrolluniversity:observability.receivers.smtpUsername`,
		"docs/DEPLOYMENT.md",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in\n%v", want, err)
		}
	}
	if len(res.Resources) != 0 {
		t.Errorf("want nothing registered, got %s first", res.Resources[0].URN)
	}

	// A preview (the mock engine cannot run one: unknowns in secrets)
	// warns of each and goes on.
	cfg, err := synth.Check(loadStack(t, "production"))
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	if err := infra.GatePlaceholders(config.Placeholders(cfg), true, func(m string) { warned = append(warned, m) }); err != nil {
		t.Errorf("pulumi preview with placeholders: want warnings, got %v", err)
	}
	if len(warned) != len(config.Placeholders(cfg)) || len(warned) < 5 || !strings.Contains(warned[0], "`pulumi up` refuses it") {
		t.Errorf("preview warnings: want one per placeholder, got %v", warned)
	}
	if err := infra.GatePlaceholders(nil, false, nil); err != nil {
		t.Errorf("no placeholders: up goes on, got %v", err)
	}
	if _, err := synth.Run(loadStack(t, "production"), infra.Deploy); err != nil {
		t.Errorf("the synthesizer keeps placeholders: %v", err)
	}
}

// The endpoint allows what the bootstrap publishes for the runners, read
// from SSM; a missing or unsafe parameter stops the run before anything
// is registered, and "none" with no ranges is a private-only endpoint.
func TestEndpointFollowsTheRunnersEgress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		world     func(w *synth.World)
		parameter string
		cidrs     []string
		want      []string // the endpoint's CIDRs; nil for private only
		wantErr   string
	}{
		{"the bootstrap's parameter", func(*synth.World) {}, "", nil, []string{synth.MockRunnerEgress + "/32"}, ""},
		{"with a VPN range", func(*synth.World) {}, "", []string{"192.0.2.0/28"}, []string{"192.0.2.0/28", synth.MockRunnerEgress + "/32"}, ""},
		{"two runner addresses", func(w *synth.World) {
			w.Parameters["/scrolluniversity/delivery/runner-egress-cidrs"] = "198.51.100.10/32,198.51.100.11/32"
		}, "", nil, []string{"198.51.100.10/32", "198.51.100.11/32"}, ""},
		{"no bootstrap yet", func(w *synth.World) { delete(w.Parameters, "/scrolluniversity/delivery/runner-egress-cidrs") }, "", nil, nil,
			`scrolluniversity:cluster.runnerEgressParameter = "/scrolluniversity/delivery/runner-egress-cidrs": reading the delivery runners' egress`},
		{"a parameter opening the endpoint to everyone", func(w *synth.World) {
			w.Parameters["/scrolluniversity/delivery/runner-egress-cidrs"] = "0.0.0.0/0"
		}, "", nil, nil, `the parameter holds "0.0.0.0/0", want network CIDRs narrower than the whole internet`},
		{"none and no ranges: private only", func(*synth.World) {}, "none", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changes := []change{{"cluster", "publicAccessCidrs", tc.cidrs}}
			if tc.parameter != "" {
				changes = append(changes, change{"cluster", "runnerEgressParameter", tc.parameter})
			}
			s := withChanges(t, changes...)
			s.World = synth.DefaultWorld()
			tc.world(s.World)
			res, err := synth.Run(s, infra.Deploy)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error containing %q, got %v", tc.wantErr, err)
				}
				for _, r := range res.Resources {
					if r.Type != "pulumi:providers:aws" {
						t.Fatalf("registered before the refusal: %s", r.URN)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := one(t, res, typeCluster, "scrolluniversity-production").Plain()
			if got := strs(path(in, "vpcConfig", "publicAccessCidrs")); !slices.Equal(got, tc.want) {
				t.Errorf("endpoint CIDRs: want %v, got %v", tc.want, got)
			}
			if got := path(in, "vpcConfig", "endpointPublicAccess"); got != (len(tc.want) > 0) {
				t.Errorf("public endpoint: want %v, got %v", len(tc.want) > 0, got)
			}
		})
	}
}

// The deployer and viewer roles must be of the account the stack deploys
// to (the bootstrap makes them there): another account's is refused by
// key and value before anything but the provider is registered.
func TestRolesOfAnotherAccountAreRefused(t *testing.T) {
	t.Parallel()
	s := withChanges(t,
		change{"cluster", "deployerRoleArn", "arn:aws:iam::210987654321:role/scrolluniversity-production-deploy"},
		change{"cluster", "viewerRoleArns", []string{"arn:aws:iam::210987654321:role/scrolluniversity-production-preview"}})
	res, err := synth.Run(s, infra.Deploy)
	for _, want := range []string{
		`scrolluniversity:cluster.deployerRoleArn = "arn:aws:iam::210987654321:role/scrolluniversity-production-deploy": a role of account ` + synth.MockAccountID,
		`scrolluniversity:cluster.viewerRoleArns[0] = "arn:aws:iam::210987654321:role/scrolluniversity-production-preview"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	for _, r := range res.Resources {
		if r.Type != "pulumi:providers:aws" {
			t.Fatalf("registered before the refusal: %s", r.URN)
		}
	}
}
