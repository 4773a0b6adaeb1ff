package tests

// What a real `pulumi up` and a real cluster would refuse or get wrong,
// though the mock engine accepts it: AWS name limits, access entries,
// version pins, ordering, key scopes, rollouts and the edge's namespaces.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/components/apptier"
	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
	"github.com/scrolluniversity/platform/internal/apicheck"
	"github.com/scrolluniversity/platform/internal/synth"
)

// autonameSuffix is what Pulumi appends to a logical name when it names a
// resource: "-" and 7 random characters.
const autonameSuffix = 8

// awsNameLimits are AWS's limits on the names this program makes: field is
// the input holding an explicit name, or "" for a Pulumi-autonamed one (the
// logical name plus autonameSuffix).
var awsNameLimits = []struct {
	typ, field string
	limit      int
}{
	{typeRole, "", 64},
	{"aws:iam/rolePolicy:RolePolicy", "", 128},
	{typeNodeGroup, "nodeGroupNamePrefix", 37}, // 63 less the provider's 26-character suffix
	{typeRedis, "replicationGroupId", 40},
	{typeDBInstance, "identifier", 63},
	{typeDBParams, "namePrefix", 229}, // 255 less 26
	{typeRedisParams, "name", 255},
	{typeCluster, "name", 100},
	{typeLaunchTmpl, "", 128},
	{typeSG, "", 255},
	{"aws:kms/alias:Alias", "name", 256},
	{typeBucket, "bucket", 63},
}

// A cluster name of the longest length validation allows still gives every
// resource a name AWS accepts; one character more is refused before
// anything is registered.
func TestAutonamedResourcesFitAWSLimits(t *testing.T) {
	longest := "scrolluniversity-production-eu-wes" // 34 characters
	res, err := synth.Run(withChanges(t, change{"cluster", "name", longest}), infra.Deploy)
	if err != nil {
		t.Fatalf("a %d-character cluster name: %v", len(longest), err)
	}
	checked := 0
	for _, l := range awsNameLimits {
		for _, r := range res.ByType(l.typ) {
			name, extra := r.Name, autonameSuffix
			if l.field != "" {
				name, _ = r.Plain()[l.field].(string)
				extra = 0
			}
			if len(name)+extra > l.limit {
				t.Errorf("%s %s: name %q is %d characters (+%d autonamed), AWS allows %d", l.typ, r.Name, name, len(name), extra, l.limit)
			}
			checked++
		}
	}
	if checked < 30 {
		t.Errorf("checked only %d names: the resource types above must exist", checked)
	}

	_, err = synth.Run(withChanges(t, change{"cluster", "name", longest + "t"}), infra.Deploy)
	if err == nil || !strings.Contains(err.Error(), "scrolluniversity:cluster.name") {
		t.Errorf("a %d-character cluster name must be refused, got %v", len(longest)+1, err)
	}
}

func TestDatabaseUpdatesSurviveAWSChanges(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		primary := one(t, res, typeDBInstance, n.Name("postgres"))
		// A family change replaces parameter groups: names must not collide.
		pg := one(t, res, typeDBParams, n.Name("postgres")).Plain()
		if pg["name"] != nil || pg["namePrefix"] != n.Name("postgres")+"-" {
			t.Errorf("RDS parameter group: want a name prefix, got name %v prefix %v", pg["name"], pg["namePrefix"])
		}
		if got := one(t, res, typeRedisParams, n.Name("redis")).Plain()["name"]; got != n.Name("redis")+"-redis7" {
			t.Errorf("Redis parameter group: want its family in its name, got %v", got)
		}
		// Data encrypted with the data key outlives a destroy.
		if key := one(t, res, typeKey, n.Name("data")); !key.RetainOnDelete {
			t.Errorf("the data key encrypts final snapshots and retained backups: want retainOnDelete")
		}
		var replicas []synth.Resource
		for _, r := range res.ByType(typeDBInstance) {
			if r.Plain()["replicateSourceDb"] != nil {
				replicas = append(replicas, r)
			}
		}
		for _, inst := range append([]synth.Resource{primary}, replicas...) {
			id := inst.Plain()["identifier"].(string)
			if got := strings.Join(strs(inst.Plain()["enabledCloudwatchLogsExports"]), ","); got != "postgresql,upgrade" {
				t.Errorf("%s exports %q, want postgresql,upgrade", id, got)
			}
			for _, log := range []string{"postgresql", "upgrade"} {
				lg, ok := findBy(res, typeLogGroup, "name", "/aws/rds/instance/"+id+"/"+log)
				if !ok || !slices.Contains(inst.Dependencies, lg.URN) {
					t.Errorf("%s does not wait for its %s log group", id, log)
				}
			}
			if cfg.Database.MonitoringIntervalSeconds > 0 {
				att, ok := res.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", n.Name("rds-monitoring")+"-amazonrdsenhancedmonitoringrole")
				if !ok || !slices.Contains(inst.Dependencies, att.URN) {
					t.Errorf("%s does not wait for the monitoring role's policy attachment", id)
				}
			}
		}
		// Final snapshot names are unique per stack lifetime.
		if cfg.Guards.FinalSnapshot {
			for _, tc := range []struct{ r synth.Resource }{{primary}, {one(t, res, typeRedis, n.Name("redis"))}} {
				suffix := one(t, res, "random:index/randomId:RandomId", tc.r.Name+"-final-snapshot")
				snap := tc.r.Plain()["finalSnapshotIdentifier"]
				if snap != tc.r.Name+"-final-"+suffix.State["hex"].StringValue() {
					t.Errorf("%s final snapshot: want %s-final-<random>, got %v", tc.r.Name, tc.r.Name, snap)
				}
			}
		}
	})
}

// findBy is the resource of a type whose input field has a value.
func findBy(res *synth.Result, typ, field string, value any) (synth.Resource, bool) {
	for _, r := range res.ByType(typ) {
		if r.Plain()[field] == value {
			return r, true
		}
	}
	return synth.Resource{}, false
}

// The logs key encrypts this stack's log groups only, and every log group
// it encrypts is one of them.
func TestLogsKeyIsScopedToTheStack(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		doc := parsePolicy(t, one(t, res, typeKey, n.Name("logs")).Plain()["policy"])
		var patterns []string
		for _, s := range doc.Statement {
			if s.Principal["Service"] == "logs."+cfg.Region+".amazonaws.com" {
				patterns = list(s.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
			}
		}
		if len(patterns) == 0 {
			t.Fatalf("no CloudWatch Logs statement in the logs key policy: %+v", doc)
		}
		for _, p := range patterns {
			if strings.HasSuffix(p, "log-group:*") {
				t.Errorf("the logs key may encrypt any log group of the account: %s", p)
			}
		}
		logsKey := one(t, res, typeKey, n.Name("logs")).State["arn"].StringValue()
		for _, lg := range res.ByType(typeLogGroup) {
			if lg.Plain()["kmsKeyId"] != logsKey {
				continue // the WAF's, in us-east-1 under a key of its own (TestWebACLRules)
			}
			arn := "arn:aws:logs:" + cfg.Region + ":" + synth.MockAccountID + ":log-group:" + lg.Plain()["name"].(string)
			if !slices.ContainsFunc(patterns, func(p string) bool { return arnLike(p, arn) }) {
				t.Errorf("log group %s is not covered by the logs key's scope %v", arn, patterns)
			}
		}
	})
}

// arnLike is IAM's ArnLike for the patterns used here: * matches anything.
func arnLike(pattern, arn string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(arn, parts[0]) {
		return false
	}
	rest := arn[len(parts[0]):]
	for _, p := range parts[1:] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return strings.HasSuffix(arn, parts[len(parts)-1])
}

// The load balancer controller may add the NLB's rule to the cluster
// security group (the pods' ENIs carry it), and to no other untagged group.
func TestLoadBalancerControllerCanOpenTheClusterSecurityGroup(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		doc := parsePolicy(t, one(t, res, typeRolePolicy, cfg.Cluster.Name+"-lb-controller").Plain()["policy"])
		want := "arn:aws:ec2:" + cfg.Region + ":" + synth.MockAccountID + ":security-group/" + clusterSecurityGroup(t, res, cfg)
		found := false
		for _, s := range doc.Statement {
			if !slices.Contains(list(s.Action), "ec2:AuthorizeSecurityGroupIngress") {
				continue
			}
			if s.Condition == nil {
				if !slices.Equal(list(s.Resource), []string{want}) {
					t.Errorf("unconditioned ingress changes allowed on %v, want only %s", s.Resource, want)
				}
				found = true
			}
		}
		if !found {
			t.Errorf("the controller cannot add the NLB's ingress rule to the cluster security group %s", want)
		}
	})
}

// Nothing on the cluster starts before the deployer can reach the API, the
// nodes have joined and DNS and storage run; charts wait a bounded time.
func TestKubernetesWaitsForTheCluster(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		provider := one(t, res, typeK8sProvider, n.Name("k8s"))
		var want []string
		for _, g := range res.ByType(typeNodeGroup) {
			want = append(want, g.URN)
		}
		for _, a := range []string{"coredns", "aws-ebs-csi-driver"} {
			want = append(want, one(t, res, typeAddon, n.Name(a)).URN)
		}
		deployer := one(t, res, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", n.Name("admin", kit.PolicyShortName(cfg.Cluster.DeployerRoleArn)))
		want = append(want, deployer.URN)
		for _, urn := range want {
			if !slices.Contains(provider.Dependencies, urn) {
				t.Errorf("the Kubernetes provider does not wait for %s", urn)
			}
		}
		for _, r := range res.ByType(typeRelease) {
			p := r.Plain()
			if p["timeout"] != int64(kit.ReleaseTimeoutSeconds) || p["createNamespace"] != false {
				t.Errorf("release %s: want timeout %d and no namespace of its own, got timeout %v createNamespace %v", r.Name, kit.ReleaseTimeoutSeconds, p["timeout"], p["createNamespace"])
			}
			if !strings.HasSuffix(r.Provider, "::"+n.Name("k8s")) {
				t.Errorf("release %s does not use the cluster's provider: %s", r.Name, r.Provider)
			}
		}
		job := res.ByType(typeJob)[0]
		if job.CreateTimeout != apptier.MigrationWait || job.UpdateTimeout != apptier.MigrationWait {
			t.Errorf("migration Job: Pulumi must wait %s, longer than its deadline; got create %q update %q", apptier.MigrationWait, job.CreateTimeout, job.UpdateTimeout)
		}
	})
}

// A change to the backend's settings or secrets rolls its pods.
func TestConfigChangesRollTheBackend(t *testing.T) {
	checksum := func(res *synth.Result) any {
		return path(one(t, res, typeDeployment, "backend").Redacted(), "spec", "template", "metadata", "annotations", apptier.ConfigChecksumAnnotation)
	}
	base := synthesize(t, "production")
	changed, err := synth.Run(withChanges(t, change{"app", "settings", map[string]string{"LOG_LEVEL": "warn"}}), infra.Deploy)
	if err != nil {
		t.Fatal(err)
	}
	a, b := checksum(base), checksum(changed)
	if s, ok := a.(string); !ok || len(s) != 64 {
		t.Fatalf("backend pod template: want a readable SHA-256 checksum, got %v", a)
	}
	if a == b {
		t.Errorf("changing app.settings left the checksum at %v: running pods would keep the old config", a)
	}
	if frontend := path(one(t, base, typeDeployment, "frontend").Plain(), "spec", "template", "metadata", "annotations", apptier.ConfigChecksumAnnotation); frontend != nil {
		t.Errorf("the frontend reads no ConfigMap, yet has a checksum %v", frontend)
	}
}

// The edge's namespaces are declared with Pod Security labels and default
// deny, and charts install into them rather than creating their own.
func TestEdgeNamespacesAreDeclared(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		policies := map[string][]string{}
		for _, p := range res.ByType(typeNetPol) {
			ns := path(p.Plain(), "metadata", "namespace").(string)
			policies[ns] = append(policies[ns], path(p.Plain(), "metadata", "name").(string))
		}
		for _, ns := range []string{cfg.App.Namespace, apptier.GatewayNamespace, "cert-manager"} {
			r := one(t, res, "kubernetes:core/v1:Namespace", ns)
			labels := path(r.Plain(), "metadata", "labels")
			if path(labels, "pod-security.kubernetes.io/enforce") != "restricted" {
				t.Errorf("namespace %s: want restricted enforced, got %v", ns, labels)
			}
			for _, want := range []string{"default-deny", "allow-dns"} {
				if !slices.Contains(policies[ns], want) {
					t.Errorf("namespace %s: no %s policy (has %v)", ns, want, policies[ns])
				}
			}
		}
		for ns, want := range map[string][]string{
			apptier.GatewayNamespace: {"nginx-from-clients", "nginx-to-app", "nginx-to-control-plane", "control-plane-from-nginx", "control-plane-to-api-server", "cert-generator-to-api-server", "nginx-to-acme-solver", "acme-solver-from-nginx"},
			"cert-manager":           {"controllers-to-api-server", "controller-to-acme", "webhook-from-api-server"},
		} {
			for _, w := range want {
				if !slices.Contains(policies[ns], w) {
					t.Errorf("namespace %s: no %s policy (has %v)", ns, w, policies[ns])
				}
			}
		}
		for ns, names := range policies {
			if len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names) {
				t.Errorf("namespace %s: a NetworkPolicy name twice: %v", ns, names)
			}
		}
		gw := one(t, res, "kubernetes:core/v1:Namespace", apptier.GatewayNamespace)
		if path(gw.Plain(), "metadata", "labels", "elbv2.k8s.aws/pod-readiness-gate-inject") != "enabled" {
			t.Errorf("the NLB's targets live in %s: want the readiness gate label", apptier.GatewayNamespace)
		}
		for release, ns := range map[string]string{"cert-manager": "cert-manager", "nginx-gateway-fabric": apptier.GatewayNamespace} {
			r := one(t, res, typeRelease, release)
			if !slices.Contains(r.Dependencies, one(t, res, "kubernetes:core/v1:Namespace", ns).URN) {
				t.Errorf("release %s does not wait for its namespace %s", release, ns)
			}
		}
	})
}

// Certificates come through the Gateway (HTTP-01): NGINX must reach the
// solver pod cert-manager starts in the Gateway's namespace, on 8089, and
// the solver must admit it.
func TestACMESolverIsReachableThroughTheGateway(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		flows := map[string]string{}
		for _, p := range res.ByType(typeNetPol) {
			if path(p.Plain(), "metadata", "namespace") != apptier.GatewayNamespace {
				continue
			}
			spec := path(p.Plain(), "spec")
			self := path(spec, "podSelector", "matchLabels")
			for dir, peerKey := range map[string]string{"egress": "to", "ingress": "from"} {
				rulesList, _ := path(spec, dir).([]any)
				for _, r := range rulesList {
					peers, _ := path(r, peerKey).([]any)
					ports, _ := path(r, "ports").([]any)
					if len(peers) == 0 || len(ports) == 0 || path(peers[0], "podSelector") == nil {
						continue
					}
					peer := path(peers[0], "podSelector", "matchLabels")
					from, to := self, peer
					if dir == "ingress" {
						from, to = peer, self
					}
					flow := fmt.Sprintf("%s %v -> solver=%v:%v", dir, path(from, "app.kubernetes.io/name"), path(to, "acme.cert-manager.io/http01-solver"), path(ports[0], "port"))
					flows[flow] = path(p.Plain(), "metadata", "name").(string)
				}
			}
		}
		for _, want := range []string{"egress public-nginx -> solver=true:8089", "ingress public-nginx -> solver=true:8089"} {
			if _, ok := flows[want]; !ok {
				t.Errorf("no policy allows %s; flows: %v", want, flows)
			}
		}
	})
}

// All public traffic passes through NGINX: several pods, spread, guarded.
func TestGatewayDataPlaneIsRedundant(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		values := one(t, res, typeRelease, "nginx-gateway-fabric").Plain()["values"]
		if got := path(values, "nginx", "replicas"); got != int64(cfg.App.Gateway.Replicas) || cfg.App.Gateway.Replicas < 2 {
			t.Errorf("NGINX replicas: want app.gateway.replicas (%d, at least 2), got %v", cfg.App.Gateway.Replicas, got)
		}
		spread := path(values, "nginx", "pod", "topologySpreadConstraints").([]any)[0]
		if path(spread, "topologyKey") != "topology.kubernetes.io/zone" {
			t.Errorf("NGINX pods are not spread over zones: %v", spread)
		}
		for _, sp := range []any{spread, path(values, "nginxGateway", "topologySpreadConstraints").([]any)[0]} {
			if path(sp, "nodeTaintsPolicy") != "Honor" {
				t.Errorf("a hard zone spread that counts a lost zone's tainted nodes blocks every replacement (k8s F7): %v", sp)
			}
		}
		if path(spread, "whenUnsatisfiable") != "DoNotSchedule" || path(spread, "labelSelector", "matchLabels", "app.kubernetes.io/name") != "public-nginx" {
			t.Errorf("the spread must be hard and select the NGINX pods NGF provisions for Gateway public: %v", spread)
		}
		if got := path(values, "nginx", "pod", "nodeSelector", "scrolluniversity.io/pool"); got != cfg.App.NodePool {
			t.Errorf("NGINX pods must run on the app's zonal pool %s, got %v", cfg.App.NodePool, got)
		}
		pdb := one(t, res, typePDB, apptier.GatewayNamespace+"-public-nginx").Plain()
		if path(pdb, "spec", "maxUnavailable") != int64(1) || path(pdb, "spec", "selector", "matchLabels", "app.kubernetes.io/name") != "public-nginx" {
			t.Errorf("NGINX PDB: got %v", pdb)
		}
		control := one(t, res, typePDB, apptier.GatewayNamespace+"-nginx-gateway-fabric").Plain()
		if path(control, "spec", "selector", "matchLabels", "app.kubernetes.io/instance") != "nginx-gateway-fabric" {
			t.Errorf("NGF control plane PDB: got %v", control)
		}
	})
}

// The shipped stacks' CRD sources in the API server check are the releases
// the stacks pin.
func TestAPICheckInstallsThePinnedCRDs(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		// The charts' CRDs come with their rendered manifests, at whatever
		// version the stack pins; the Gateway API's, which the program
		// applies itself, from its Go module at the stack's version.
		if want := "Gateway API " + cfg.App.Charts.GatewayAPI; !slices.Contains(apicheckReleases(), want) {
			t.Errorf("the API server check installs no CRDs of %s (it has %v)", want, apicheckReleases())
		}
	})
}

// Manifests of secret data keep their keys: a real API server refuses
// `stringData: "[secret]"`.
func TestSecretManifestsKeepTheirKeys(t *testing.T) {
	res := synthesize(t, "production")
	for _, m := range synth.Manifests(res) {
		if m.Object["kind"] != "Secret" {
			continue
		}
		data, ok := m.Object["stringData"].(map[string]any)
		if !ok {
			t.Fatalf("%s: stringData is %T, want a map of redacted values", m.File, m.Object["stringData"])
		}
		for k, v := range data {
			if v != synth.Redacted {
				t.Errorf("%s: stringData.%s is %v, want %s", m.File, k, v, synth.Redacted)
			}
		}
		want := map[string]string{
			"backend-secrets": "DATABASE_URL", "alertmanager-receivers": "slack-webhook-url", "grafana-admin": "admin-password",
			"postgres-admin": "password", "postgres-monitoring": "verifier", "redis-exporter": "auth-token",
			"elasticsearch-exporter-user": "password", "backup-credentials": "backup-password",
		}
		name, _ := m.Object["metadata"].(map[string]any)["name"].(string)
		key, known := want[name]
		if !known {
			t.Errorf("%s: Secret %s is not known to this test; add the key it must keep", m.File, name)
		} else if _, ok := data[key]; !ok {
			t.Errorf("%s: the keys are gone: %v", m.File, data)
		}
	}
}

// Outside Secrets, redaction replaces only the secret string values and
// keeps every other value as it is: a manifest redacted whole (a spec made
// one secret) would reach the API server with ports as strings and list
// entries all named "[secret]", which it refuses. The app route's only
// secret is the CDN's origin header value, once per rule.
func TestManifestsRedactOnlyTheSecretValues(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		var redacted func(v any, at string, out *[]string)
		redacted = func(v any, at string, out *[]string) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					redacted(e, at+"."+k, out)
				}
			case []any:
				for i, e := range x {
					redacted(e, fmt.Sprintf("%s[%d]", at, i), out)
				}
			case string:
				if x == synth.Redacted {
					*out = append(*out, at)
				}
			}
		}
		for _, m := range synth.Manifests(res) {
			if m.Object["kind"] == "Secret" {
				continue
			}
			var at []string
			redacted(m.Object, "", &at)
			if m.File != "httproute_"+cfg.App.Namespace+"_app.yaml" {
				if len(at) > 0 {
					t.Errorf("%s: redacted at %v", m.File, at)
				}
				continue
			}
			rules := len(path(m.Object, "spec", "rules").([]any))
			for _, a := range at {
				if !regexp.MustCompile(`^\.spec\.rules\[\d+\]\.matches\[0\]\.headers\[0\]\.value$`).MatchString(a) {
					t.Errorf("%s: redacted at %s, not an origin header value", m.File, a)
				}
			}
			if cfg.CDN.Enabled && len(at) != rules {
				t.Errorf("%s: %d redacted values, want the origin header of each of its %d rules", m.File, len(at), rules)
			}
		}
	})
}

func apicheckReleases() []string {
	var out []string
	for _, s := range apicheck.CRDSources {
		out = append(out, s.Release)
	}
	return out
}

// The program registers the Kubernetes provider's Helm Release and yaml/v2
// ConfigFile itself (see kit.NewRelease): the version it asks for is the
// SDK's in go.mod, and a Release carries what the SDK's constructor sends.
func TestKubernetesRegistrationsMatchTheSDK(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "github.com/pulumi/pulumi-kubernetes/sdk/v4 v" + kit.KubernetesSDKVersion; !strings.Contains(string(mod), want) {
		t.Errorf("kit.KubernetesSDKVersion %s is not go.mod's pulumi-kubernetes version (want a line %q)", kit.KubernetesSDKVersion, want)
	}
	res := synthesize(t, "production")
	for _, r := range res.ByType(typeRelease) {
		p := r.Plain()
		if p["compat"] != "true" || p["chart"] == nil || p["version"] == nil {
			t.Errorf("release %s: want compat \"true\", a chart and a version, got %v", r.Name, p)
		}
	}
	crds := one(t, res, "kubernetes:yaml/v2:ConfigFile", "gateway-api-crds").Plain()
	if crds["file"] != "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.1/standard-install.yaml" {
		t.Errorf("Gateway API CRDs: got %v", crds)
	}
}

// The real API server check runs the Kubernetes minor the stacks run: a
// version bump in the stack files without one of tools/kube (or the other
// way round) fails here.
func TestAPIServerRunsTheStacksMinor(t *testing.T) {
	for _, name := range stacks {
		cfg, err := synth.Check(loadStack(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if server := strings.TrimPrefix(apicheck.KubernetesVersion, "v"); !strings.HasPrefix(server, cfg.Cluster.KubernetesVersion+".") {
			t.Errorf("stack %s runs Kubernetes %s; the API server check runs %s (tools/kube/go.mod, internal/apicheck)", name, cfg.Cluster.KubernetesVersion, apicheck.KubernetesVersion)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "tools", "kube", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "k8s.io/kubernetes "+apicheck.KubernetesVersion+"\n") {
		t.Errorf("tools/kube/go.mod does not require k8s.io/kubernetes %s", apicheck.KubernetesVersion)
	}
}
