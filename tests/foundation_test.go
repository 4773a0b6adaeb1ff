package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/components/cdn"
	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
	"github.com/scrolluniversity/platform/internal/synth"
)

const (
	typeVpc         = "aws:ec2/vpc:Vpc"
	typeSubnet      = "aws:ec2/subnet:Subnet"
	typeNat         = "aws:ec2/natGateway:NatGateway"
	typeEip         = "aws:ec2/eip:Eip"
	typeRouteTable  = "aws:ec2/routeTable:RouteTable"
	typeEndpoint    = "aws:ec2/vpcEndpoint:VpcEndpoint"
	typeFlowLog     = "aws:ec2/flowLog:FlowLog"
	typeLogGroup    = "aws:cloudwatch/logGroup:LogGroup"
	typeCluster     = "aws:eks/cluster:Cluster"
	typeNodeGroup   = "aws:eks/nodeGroup:NodeGroup"
	typeAddon       = "aws:eks/addon:Addon"
	typeLaunchTmpl  = "aws:ec2/launchTemplate:LaunchTemplate"
	typeRole        = "aws:iam/role:Role"
	typeKey         = "aws:kms/key:Key"
	typeOidc        = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
	typeAwsProvider = "pulumi:providers:aws"
	typeK8sProvider = "pulumi:providers:kubernetes"
)

// networkShape is what a stack file implies for its network: a NAT
// gateway per zone unless it asks for a single one (a guarded stack has
// one per zone: TestGuardedStacksHaveProductionShape).
func networkShape(t *testing.T, cfg *config.Config) (zones, nats int) {
	t.Helper()
	zones, nats = len(cfg.Network.AvailabilityZones), len(cfg.Network.AvailabilityZones)
	if cfg.Network.NatGateways == config.NatSingle {
		nats = 1
	}
	return zones, nats
}

func TestNetworkZonesSubnetsAndNat(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		zones, nats := networkShape(t, cfg)
		want := struct{ zones, nats int }{zones, nats}
		if got := len(res.ByType(typeSubnet)); got != 4*want.zones {
			t.Errorf("subnets: want %d (public, private, isolated and control-plane per zone), got %d", 4*want.zones, got)
		}
		if got := len(res.ByType(typeNat)); got != want.nats {
			t.Errorf("NAT gateways: want %d, got %d", want.nats, got)
		}
		if got := len(res.ByType(typeEip)); got != want.nats {
			t.Errorf("NAT Elastic IPs: want %d, got %d", want.nats, got)
		}

		plan, err := config.PlanSubnets(cfg.Network.VpcCidr, cfg.Network.AvailabilityZones)
		if err != nil {
			t.Fatal(err)
		}
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		for _, z := range plan {
			for tier, cidr := range map[string]string{"public": z.Public.String(), "private": z.Private.String(), "isolated": z.Isolated.String(), "control-plane": z.ControlPlane.String()} {
				s := one(t, res, typeSubnet, n.Name(tier, z.Zone)).Plain()
				if s["cidrBlock"] != cidr || s["availabilityZone"] != z.Zone {
					t.Errorf("%s subnet in %s: want %s in %s, got %v in %v", tier, z.Zone, cidr, z.Zone, s["cidrBlock"], s["availabilityZone"])
				}
				tags, _ := s["tags"].(map[string]any)
				wantRole := map[string]string{"public": "kubernetes.io/role/elb", "private": "kubernetes.io/role/internal-elb"}[tier]
				if wantRole != "" && tags[wantRole] != "1" {
					t.Errorf("%s subnet in %s: want tag %s=1 for EKS load balancers, got tags %v", tier, z.Zone, wantRole, tags)
				}
				if tier == "public" && s["mapPublicIpOnLaunch"] != false {
					t.Errorf("public subnet in %s maps public IPs on launch", z.Zone)
				}
			}
			// Every private route table sends internet traffic through a NAT gateway.
			rt := one(t, res, typeRouteTable, n.Name("private", z.Zone)).Plain()
			routes, _ := rt["routes"].([]any)
			if len(routes) != 1 || path(routes[0], "cidrBlock") != "0.0.0.0/0" || !strings.HasPrefix(path(routes[0], "natGatewayId").(string), "nat-") {
				t.Errorf("private route table in %s: want one default route via a NAT gateway, got %v", z.Zone, routes)
			}
		}
		if routes := one(t, res, typeRouteTable, n.Name("isolated")).Plain()["routes"]; routes != nil {
			t.Errorf("isolated route table must have no route out, got %v", routes)
		}

		ep := one(t, res, typeEndpoint, n.Name("s3")).Plain()
		if ep["vpcEndpointType"] != "Gateway" || ep["serviceName"] != "com.amazonaws.us-east-1.s3" || len(strs(ep["routeTableIds"])) != want.zones+1 {
			t.Errorf("S3 endpoint: want a Gateway endpoint on %d route tables, got %v", want.zones+1, ep)
		}
		fl := one(t, res, typeFlowLog, n.Name("vpc")).Plain()
		if fl["trafficType"] != "ALL" || fl["logDestinationType"] != "cloud-watch-logs" {
			t.Errorf("flow log: want ALL traffic to CloudWatch Logs, got %v", fl)
		}
		lg := one(t, res, typeLogGroup, n.Name("flow-logs")).Plain()
		if lg["retentionInDays"] != int64(cfg.Network.FlowLogRetentionDays) || !strings.HasPrefix(lg["kmsKeyId"].(string), "arn:aws:kms:") {
			t.Errorf("flow-log group: want %d days retention and a KMS key, got %v", cfg.Network.FlowLogRetentionDays, lg)
		}
	})
}

func TestClusterEncryptionEndpointAndLogging(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		c := one(t, res, typeCluster, cfg.Cluster.Name)
		in := c.Plain()
		n := kit.Namer{Prefix: cfg.Cluster.Name}

		secretsKey := one(t, res, typeKey, n.Name("eks-secrets"))
		if got := path(in, "encryptionConfig", "provider", "keyArn"); got != secretsKey.State["arn"].StringValue() {
			t.Errorf("secrets encryption key: want %s, got %v", secretsKey.State["arn"].StringValue(), got)
		}
		if got := strs(path(in, "encryptionConfig", "resources")); !slices.Equal(got, []string{"secrets"}) {
			t.Errorf("encrypted resources: want [secrets], got %v", got)
		}
		if secretsKey.Plain()["enableKeyRotation"] != true {
			t.Errorf("secrets key rotation is off")
		}
		if secretsKey.Protect != cfg.Guards.Protect {
			t.Errorf("secrets key protect: want %v, got %v", cfg.Guards.Protect, secretsKey.Protect)
		}
		if got := strs(in["enabledClusterLogTypes"]); !slices.Equal(got, []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}) {
			t.Errorf("control-plane logs: got %v", got)
		}
		if path(in, "vpcConfig", "endpointPrivateAccess") != true {
			t.Errorf("private endpoint is off")
		}
		// The control plane's interfaces go in subnets of their own, where no
		// node or pod has an address (NetworkPolicies tell them apart).
		if got, want := strs(path(in, "vpcConfig", "subnetIds")), subnetIDs(t, res, n, "control-plane", cfg.Network.AvailabilityZones); !slices.Equal(got, want) {
			t.Errorf("cluster subnets: want the control-plane subnets %v, got %v", want, got)
		}
		// The config's ranges and the delivery runners' egress, which the
		// bootstrap publishes in SSM (the mock account's World holds it).
		cidrs := strs(path(in, "vpcConfig", "publicAccessCidrs"))
		if want := append(slices.Clone(cfg.Cluster.PublicAccessCidrs), synth.MockRunnerEgress+"/32"); !slices.Equal(cidrs, want) {
			t.Errorf("public endpoint CIDRs: want %v, got %v", want, cidrs)
		}
		if path(in, "vpcConfig", "endpointPublicAccess") != true {
			t.Errorf("public endpoint: want on for the runners, got %v", path(in, "vpcConfig", "endpointPublicAccess"))
		}
		if path(in, "accessConfig", "authenticationMode") != "API" {
			t.Errorf("authentication mode: want API (access entries), got %v", path(in, "accessConfig", "authenticationMode"))
		}
		if in["version"] != cfg.Cluster.KubernetesVersion {
			t.Errorf("version: want %s, got %v", cfg.Cluster.KubernetesVersion, in["version"])
		}
		// The log group exists, with retention, before EKS writes to it.
		lg := one(t, res, typeLogGroup, n.Name("control-plane"))
		if lg.Plain()["name"] != "/aws/eks/"+cfg.Cluster.Name+"/cluster" || lg.Plain()["retentionInDays"] != int64(cfg.Cluster.LogRetentionDays) {
			t.Errorf("control-plane log group: got %v", lg.Plain())
		}
		if !slices.Contains(c.Dependencies, lg.URN) {
			t.Errorf("cluster does not depend on its log group")
		}
		// No implicit admin: the deployer and every admin role have explicit
		// access entries with cluster-admin, and nothing else has one.
		if path(in, "accessConfig", "bootstrapClusterCreatorAdminPermissions") != false {
			t.Errorf("bootstrapClusterCreatorAdminPermissions: want false (an entry for the deployer would fail with ResourceInUse), got %v", path(in, "accessConfig"))
		}
		if got := len(res.ByType("aws:eks/accessEntry:AccessEntry")); got != 1+len(cfg.Cluster.AdminRoleArns)+len(cfg.Cluster.ViewerRoleArns) {
			t.Errorf("access entries: want the deployer, %d admins and %d viewers, got %d", len(cfg.Cluster.AdminRoleArns), len(cfg.Cluster.ViewerRoleArns), got)
		}
		// The preview role reads everything a refresh reads, Secrets
		// included, and writes nothing.
		if want := "arn:aws:iam::123456789012:role/scrolluniversity-" + name + "-preview"; !slices.Equal(cfg.Cluster.ViewerRoleArns, []string{want}) {
			t.Errorf("viewers: want the stack's preview role %s, got %v", want, cfg.Cluster.ViewerRoleArns)
		}
		for _, arn := range cfg.Cluster.ViewerRoleArns {
			var policies []string
			for _, a := range res.ByType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation") {
				if p := a.Plain(); p["principalArn"] == arn {
					policies = append(policies, fmt.Sprint(p["policyArn"], " ", path(p, "accessScope", "type")))
				}
			}
			if !slices.Equal(policies, []string{"arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy cluster"}) {
				t.Errorf("viewer %s: want AmazonEKSAdminViewPolicy on the cluster only, got %v", arn, policies)
			}
		}
		if path(in, "upgradePolicy", "supportType") != "STANDARD" {
			t.Errorf("upgrade policy: want STANDARD (no silent extended support), got %v", in["upgradePolicy"])
		}
		if c.Protect != cfg.Guards.Protect {
			t.Errorf("cluster protect: want %v, got %v", cfg.Guards.Protect, c.Protect)
		}
		for _, arn := range append([]string{cfg.Cluster.DeployerRoleArn}, cfg.Cluster.AdminRoleArns...) {
			found := false
			for _, a := range res.ByType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation") {
				p := a.Plain()
				if p["principalArn"] == arn && strings.HasSuffix(p["policyArn"].(string), "/AmazonEKSClusterAdminPolicy") && path(p, "accessScope", "type") == "cluster" {
					found = true
				}
			}
			if !found {
				t.Errorf("no cluster-admin access policy association for %s", arn)
			}
		}
	})
}

// nodeGroupShape is what the stack file says of a node group, in the EKS
// API's spelling.
type nodeGroupShape struct {
	capacity      string
	types         []string
	min, des, max int64
	taint         string
	zonal         bool
}

func nodeGroupShapes(t *testing.T, cfg *config.Config) map[string]nodeGroupShape {
	t.Helper()
	out := map[string]nodeGroupShape{}
	for name, ng := range cfg.Cluster.NodeGroups {
		s := nodeGroupShape{capacity: ng.CapacityType, types: ng.InstanceTypes, min: int64(ng.MinSize), des: int64(ng.DesiredSize), max: int64(ng.MaxSize), zonal: ng.Zonal}
		if len(ng.Taints) > 1 {
			t.Fatalf("node group %s: %d taints; this test reads one", name, len(ng.Taints))
		}
		if len(ng.Taints) == 1 {
			s.taint = ng.Taints[0].Key
		}
		out[name] = s
	}
	// The pools the platform's pods are placed on (DESIGN.md): a tainted
	// system pool for the add-ons, and the app's pool, zonal.
	if sys, ok := out["system"]; !ok || sys.taint != "CriticalAddonsOnly" {
		t.Errorf("stack %s: want a node group system tainted CriticalAddonsOnly, got %+v", cfg.Stack, sys)
	}
	if app := out[cfg.App.NodePool]; !app.zonal || app.taint != "" {
		t.Errorf("stack %s: the app's pool %s must be zonal and untainted, got %+v", cfg.Stack, cfg.App.NodePool, app)
	}
	return out
}

func TestNodeGroups(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		zones := cfg.Network.AvailabilityZones
		wantCount := 0
		shapes := nodeGroupShapes(t, cfg)
		for _, shape := range shapes {
			wantCount++
			if shape.zonal {
				wantCount += len(zones) - 1
			}
		}
		if got := len(res.ByType(typeNodeGroup)); got != wantCount {
			t.Errorf("node groups: want %d, got %d", wantCount, got)
		}
		cni := one(t, res, typeAddon, n.Name("vpc-cni"))
		// Nodes join through the private subnets' egress, and on destroy
		// everything on the cluster goes before it: every node group
		// waits for each NAT gateway, private route table association and
		// the S3 endpoint (finding 9).
		var egress []synth.Resource
		for _, typ := range []string{"aws:ec2/natGateway:NatGateway", "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/vpcEndpoint:VpcEndpoint"} {
			for _, r := range res.ByType(typ) {
				if typ != "aws:ec2/routeTableAssociation:RouteTableAssociation" || strings.Contains(r.Name, "-private-") {
					egress = append(egress, r)
				}
			}
		}
		if len(egress) < 3 {
			t.Fatalf("egress: found only %d NAT gateways, private associations and endpoints", len(egress))
		}
		for _, ng := range res.ByType(typeNodeGroup) {
			for _, e := range egress {
				if !slices.Contains(ng.Dependencies, e.URN) {
					t.Errorf("node group %s does not wait for %s", ng.Name, e.Name)
				}
			}
		}
		type instance struct{ logical, prefix, zone string }
		for group, want := range shapes {
			instances := []instance{{n.Name(group), group + "-", ""}}
			if want.zonal {
				instances = nil
				for _, z := range zones {
					instances = append(instances, instance{n.Name(group, z), group + "-" + z + "-", z})
				}
			}
			for _, inst := range instances {
				ng := one(t, res, typeNodeGroup, inst.logical)
				in := ng.Plain()
				if in["nodeGroupNamePrefix"] != inst.prefix {
					t.Errorf("node group %s: name prefix want %q, got %v", inst.logical, inst.prefix, in["nodeGroupNamePrefix"])
				}
				if subnets := strs(in["subnetIds"]); (inst.zone != "") != (len(subnets) == 1) || (inst.zone == "" && len(subnets) != len(zones)) {
					t.Errorf("node group %s: want its zone's subnet only when zonal, every zone's otherwise; got %v", inst.logical, subnets)
				}
				sc := in["scalingConfig"]
				if in["capacityType"] != want.capacity || !slices.Equal(strs(in["instanceTypes"]), want.types) ||
					path(sc, "minSize") != want.min || path(sc, "desiredSize") != want.des || path(sc, "maxSize") != want.max {
					t.Errorf("node group %s: want %s %v %d/%d/%d, got %v %v %v", group, want.capacity, want.types, want.min, want.des, want.max, in["capacityType"], in["instanceTypes"], sc)
				}
				if got := path(in, "labels", "scrolluniversity.io/pool"); got != group {
					t.Errorf("node group %s: want label scrolluniversity.io/pool=%s, got %v", group, group, got)
				}
				taints, _ := in["taints"].([]any)
				switch {
				case want.taint == "" && len(taints) != 0:
					t.Errorf("node group %s: want no taints, got %v", group, taints)
				case want.taint != "" && (len(taints) != 1 || path(taints[0], "key") != want.taint || path(taints[0], "effect") != "NO_SCHEDULE"):
					t.Errorf("node group %s: want taint %s:NO_SCHEDULE, got %v", group, want.taint, taints)
				}
				if in["amiType"] != "AL2023_x86_64_STANDARD" {
					t.Errorf("node group %s: AMI type %v", group, in["amiType"])
				}
				if !slices.Contains(ng.IgnoreChanges, "scalingConfig.desiredSize") {
					t.Errorf("node group %s: desiredSize is not left to the autoscaler (ignoreChanges %v)", group, ng.IgnoreChanges)
				}
				if !slices.Contains(ng.Dependencies, cni.URN) {
					t.Errorf("node group %s does not wait for vpc-cni", group)
				}
				lt := one(t, res, typeLaunchTmpl, n.Name("nodes", group)).Plain()
				if path(lt, "metadataOptions", "httpTokens") != "required" || path(lt, "metadataOptions", "httpPutResponseHopLimit") != int64(1) {
					t.Errorf("node group %s: want IMDSv2 required with hop limit 1, got %v", group, lt["metadataOptions"])
				}
				bdm, _ := lt["blockDeviceMappings"].([]any)
				if len(bdm) != 1 || path(bdm[0], "ebs", "encrypted") != "true" || path(bdm[0], "ebs", "volumeType") != "gp3" {
					t.Errorf("node group %s: want one encrypted gp3 volume, got %v", group, bdm)
				}
				// What the Auto Scaling group launches carries the stack's tags.
				specs := map[string]map[string]any{}
				for _, ts := range lt["tagSpecifications"].([]any) {
					specs[path(ts, "resourceType").(string)] = path(ts, "tags").(map[string]any)
				}
				for _, kind := range []string{"instance", "volume", "network-interface"} {
					for k, v := range cfg.AWSTags() {
						if specs[kind][k] != v {
							t.Errorf("node group %s: launched %s tag %s want %q, got %v", group, kind, k, v, specs[kind][k])
						}
					}
				}
			}
		}
	})
}

func TestAddons(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		var got []string
		for _, a := range res.ByType(typeAddon) {
			addon := a.Plain()["addonName"].(string)
			got = append(got, addon)
			// The stack file's pin, never a version resolved at run time.
			if a.Plain()["addonVersion"] != cfg.Cluster.AddonVersions[addon] || cfg.Cluster.AddonVersions[addon] == "" {
				t.Errorf("add-on %s: want the stack's pin %q, got %v", addon, cfg.Cluster.AddonVersions[addon], a.Plain()["addonVersion"])
			}
		}
		sort.Strings(got)
		if want := []string{"aws-ebs-csi-driver", "coredns", "kube-proxy", "metrics-server", "vpc-cni"}; !slices.Equal(got, want) {
			t.Errorf("add-ons: want %v, got %v", want, got)
		}
		for addon, role := range map[string]string{"vpc-cni": "vpc-cni", "aws-ebs-csi-driver": "ebs-csi"} {
			a := one(t, res, typeAddon, n.Name(addon))
			r := one(t, res, typeRole, n.Name(role))
			if a.Plain()["serviceAccountRoleArn"] != r.State["arn"].StringValue() {
				t.Errorf("add-on %s: want IRSA role %s, got %v", addon, r.State["arn"].StringValue(), a.Plain()["serviceAccountRoleArn"])
			}
		}
		// The add-ons with a role wait for its policy (finding 17): the
		// pods would otherwise start with credentials that may do nothing.
		for addon, role := range map[string]string{"vpc-cni": "vpc-cni", "aws-ebs-csi-driver": "ebs-csi"} {
			a := one(t, res, typeAddon, n.Name(addon))
			attached := 0
			for _, att := range res.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
				if strings.HasPrefix(att.Name, n.Name(role)+"-") {
					attached++
					if !slices.Contains(a.Dependencies, att.URN) {
						t.Errorf("add-on %s does not wait for %s", addon, att.Name)
					}
				}
			}
			if attached == 0 {
				t.Errorf("add-on %s: its role %s has no policy attachment", addon, n.Name(role))
			}
		}
		// The EBS CSI driver's role: AWS's cluster-scoped policy, and the
		// eks-cluster-name tag it compares each volume's tag with.
		ebsRole := one(t, res, typeRole, n.Name("ebs-csi"))
		if path(ebsRole.Plain(), "tags", "eks-cluster-name") != cfg.Cluster.Name {
			t.Errorf("EBS CSI role: want tag eks-cluster-name=%s, got %v", cfg.Cluster.Name, ebsRole.Plain()["tags"])
		}
		var ebsPolicies []any
		for _, att := range res.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			if strings.HasPrefix(att.Name, n.Name("ebs-csi")+"-") {
				ebsPolicies = append(ebsPolicies, att.Plain()["policyArn"])
			}
		}
		if len(ebsPolicies) != 1 || ebsPolicies[0] != "arn:aws:iam::aws:policy/AmazonEBSCSIDriverEKSClusterScopedPolicy" {
			t.Errorf("EBS CSI role: want only AmazonEBSCSIDriverEKSClusterScopedPolicy, got %v", ebsPolicies)
		}
		// Deployment-style add-ons wait for every node group.
		for _, addon := range []string{"coredns", "aws-ebs-csi-driver", "metrics-server"} {
			a := one(t, res, typeAddon, n.Name(addon))
			for _, ng := range res.ByType(typeNodeGroup) {
				if !slices.Contains(a.Dependencies, ng.URN) {
					t.Errorf("add-on %s does not wait for node group %s", addon, ng.Name)
				}
			}
		}
		ca := one(t, res, "kubernetes:helm.sh/v3:Release", "cluster-autoscaler").Plain()
		// On the system pool (the group tainted CriticalAddonsOnly), and
		// free to remove nodes whose pods have only scratch emptyDirs
		// (k8s F15, F14).
		if got := path(ca, "values", "nodeSelector"); !equalJSON(got, map[string]any{"scrolluniversity.io/pool": "system"}) {
			t.Errorf("the autoscaler's nodeSelector = %v, want the system pool", got)
		}
		if got := path(ca, "values", "extraArgs", "skip-nodes-with-local-storage"); got != false {
			t.Errorf("skip-nodes-with-local-storage = %v, want false: every emptyDir here is scratch", got)
		}
		if path(ca, "values", "autoDiscovery", "clusterName") != cfg.Cluster.Name || path(ca, "values", "image", "tag") != cfg.Cluster.Autoscaler.ImageTag || ca["version"] != cfg.Cluster.Autoscaler.Chart {
			t.Errorf("cluster autoscaler: want auto-discovery of %s at %s, got %v", cfg.Cluster.Name, cfg.Cluster.Autoscaler.ImageTag, ca["values"])
		}
		caPolicy := parsePolicy(t, one(t, res, "aws:iam/rolePolicy:RolePolicy", n.Name("cluster-autoscaler")).Plain()["policy"])
		for _, s := range caPolicy.Statement {
			if slices.Contains(list(s.Action), "autoscaling:SetDesiredCapacity") &&
				!slices.Equal(list(s.Condition["StringEquals"]["aws:ResourceTag/k8s.io/cluster-autoscaler/"+cfg.Cluster.Name]), []string{"owned"}) {
				t.Errorf("the autoscaler may resize Auto Scaling groups of other clusters: %v", s.Condition)
			}
		}
		// Autoscaler 1.36 lists DRA objects whatever its flags.
		rules, _ := path(ca, "values", "rbac", "additionalRules").([]any)
		if len(rules) != 1 || path(rules[0], "apiGroups") == nil || list(path(rules[0], "apiGroups"))[0] != "resource.k8s.io" || !slices.Equal(list(path(rules[0], "verbs")), []string{"get", "list", "watch"}) {
			t.Errorf("cluster autoscaler: want read access to resource.k8s.io, got %v", rules)
		}
		sc := one(t, res, "kubernetes:storage.k8s.io/v1:StorageClass", "gp3").Plain()
		if path(sc, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class") != "true" || path(sc, "parameters", "encrypted") != "true" || path(sc, "parameters", "type") != "gp3" {
			t.Errorf("gp3 StorageClass: want default, encrypted gp3, got %v", sc)
		}
		// Volumes from claims carry the stack's tags (finding 16).
		var specs []string
		for k, v := range path(sc, "parameters").(map[string]any) {
			if strings.HasPrefix(k, "tagSpecification_") {
				specs = append(specs, v.(string))
			}
		}
		sort.Strings(specs)
		var wantSpecs []string
		for k, v := range cfg.AWSTags() {
			wantSpecs = append(wantSpecs, k+"="+v)
		}
		sort.Strings(wantSpecs)
		if len(wantSpecs) == 0 || !slices.Equal(specs, wantSpecs) {
			t.Errorf("gp3 StorageClass: want a tagSpecification per stack tag %v, got %v", wantSpecs, specs)
		}
	})
}

func TestIRSATrustPolicies(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		oidc := res.ByType(typeOidc)
		if len(oidc) != 1 {
			t.Fatalf("OIDC providers: want 1, got %d", len(oidc))
		}
		if got := strs(oidc[0].Plain()["clientIdLists"]); !slices.Equal(got, []string{"sts.amazonaws.com"}) {
			t.Errorf("OIDC audiences: want [sts.amazonaws.com], got %v", got)
		}
		issuer := strings.TrimPrefix(oidc[0].Plain()["url"].(string), "https://")
		for role, subject := range map[string]string{
			"vpc-cni": "system:serviceaccount:kube-system:aws-node",
			"ebs-csi": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
		} {
			doc := parsePolicy(t, one(t, res, typeRole, n.Name(role)).Plain()["assumeRolePolicy"])
			if len(doc.Statement) != 1 {
				t.Fatalf("%s trust: want one statement, got %d", role, len(doc.Statement))
			}
			s := doc.Statement[0]
			if !slices.Equal(list(s.Action), []string{"sts:AssumeRoleWithWebIdentity"}) || !slices.Equal(list(s.Principal["Federated"]), []string{oidc[0].State["arn"].StringValue()}) {
				t.Errorf("%s trust: want web identity from the cluster's OIDC provider, got %v %v", role, s.Action, s.Principal)
			}
			eq := s.Condition["StringEquals"]
			if !slices.Equal(list(eq[issuer+":aud"]), []string{"sts.amazonaws.com"}) || !slices.Equal(list(eq[issuer+":sub"]), []string{subject}) || len(eq) != 2 {
				t.Errorf("%s trust conditions: want aud=sts.amazonaws.com and sub=%s under %s, got %v", role, subject, issuer, s.Condition)
			}
		}
	})
}

// Every AWS resource is created by one of the stack's AWS providers, each
// tagging with the stack's tags: the stack's region's, and, with the CDN,
// us-east-1's for what CloudFront takes from there only.
func TestEveryAWSResourceTaggedThroughTheProvider(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		providers := res.ByType(typeAwsProvider)
		want := 1
		if cfg.CDN.Enabled {
			want = 2
		}
		if len(providers) != want {
			t.Fatalf("AWS providers: want %d, got %d", want, len(providers))
		}
		byURN := map[string]synth.Resource{}
		for _, p := range providers {
			byURN[p.URN] = p
			tags, _ := path(p.Plain(), "defaultTags", "tags").(map[string]any)
			wantTags := map[string]string{"Project": "scrolluniversity", "Environment": name, "ManagedBy": "pulumi", "CostCenter": cfg.Tags["CostCenter"]}
			for k, v := range wantTags {
				if tags[k] != v {
					t.Errorf("provider %s default tag %s: want %q, got %v", p.Name, k, v, tags[k])
				}
			}
		}
		count := 0
		for _, r := range res.Resources {
			if !strings.HasPrefix(r.Type, "aws:") {
				continue
			}
			count++
			p, ok := byURN[r.Provider]
			if !ok {
				t.Errorf("%s %s does not use a tagged AWS provider (provider %q)", r.Type, r.Name, r.Provider)
				continue
			}
			region := path(p.Plain(), "region")
			inCDN := strings.Contains(r.Parent, "components:CDN")
			if region != cfg.Region && !(inCDN && region == cdn.Region) {
				t.Errorf("%s %s is made in %v, outside the stack's region %s", r.Type, r.Name, region, cfg.Region)
			}
		}
		if count < 50 {
			t.Errorf("only %d AWS resources: the graph is not what it should be", count)
		}
	})
}

func TestKubernetesResourcesUseTheClusterProvider(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		providers := res.ByType(typeK8sProvider)
		if len(providers) != 1 {
			t.Fatalf("Kubernetes providers: want 1, got %d", len(providers))
		}
		if !providers[0].IsSecretInput("kubeconfig") {
			t.Errorf("the provider's kubeconfig is not secret")
		}
		count := 0
		for _, r := range res.Resources {
			if strings.HasPrefix(r.Type, "kubernetes:") {
				count++
				if r.Provider != providers[0].URN {
					t.Errorf("%s %s uses provider %q, want %s", r.Type, r.Name, r.Provider, providers[0].URN)
				}
			}
		}
		if count == 0 {
			t.Errorf("no Kubernetes resources")
		}
	})
}

func TestStackOutputs(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		for _, key := range []string{"vpcId", "clusterName", "clusterEndpoint", "kubeconfig", "oidcProviderArn"} {
			if _, ok := res.Outputs[key]; !ok {
				t.Errorf("stack output %s missing", key)
			}
		}
		if res.Outputs["clusterName"].Value != cfg.Cluster.Name {
			t.Errorf("clusterName: want %s, got %v", cfg.Cluster.Name, res.Outputs["clusterName"].Value)
		}
		kc := res.Outputs["kubeconfig"]
		if !kc.Secret {
			t.Errorf("kubeconfig output is not secret")
		}
		var parsed struct {
			Users []struct {
				User struct {
					Exec struct {
						Command string
						Args    []string
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(kc.Value.(string)), &parsed); err != nil {
			t.Fatalf("kubeconfig does not parse: %v", err)
		}
		args := parsed.Users[0].User.Exec.Args
		if parsed.Users[0].User.Exec.Command != "aws" || !slices.Equal(args[:4], []string{"eks", "get-token", "--cluster-name", cfg.Cluster.Name}) {
			t.Errorf("kubeconfig exec: want aws eks get-token --cluster-name %s, got %s %v", cfg.Cluster.Name, parsed.Users[0].User.Exec.Command, args)
		}
		if res.Outputs["vpcId"].Secret || res.Outputs["clusterEndpoint"].Secret {
			t.Errorf("plain outputs marked secret")
		}
	})
}

// The synthesizer's files are byte-identical from run to run.
func TestSynthesizerIsDeterministic(t *testing.T) {
	t.Parallel() // independent programs of its own: runs beside the shared-stack tests
	stack := loadStack(t, "production")
	var outs [2]string
	for i := range outs {
		res, err := synth.Run(stack, infra.Deploy)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = t.TempDir()
		if err := synth.Write(res, outs[i]); err != nil {
			t.Fatal(err)
		}
	}
	files := 0
	err := filepath.WalkDir(outs[0], func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		rel, _ := filepath.Rel(outs[0], p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(outs[1], rel))
		if err != nil {
			t.Errorf("%s missing from the second run", rel)
			return nil
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Errorf("want resources.json, graph.dot, manifests/all.yaml and manifests, got %d files", files)
	}
	var entries []map[string]any
	b, _ := os.ReadFile(filepath.Join(outs[0], "resources.json"))
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatalf("resources.json: %v", err)
	}
	for i := 1; i < len(entries); i++ {
		if entries[i-1]["urn"].(string) >= entries[i]["urn"].(string) {
			t.Fatalf("resources.json is not sorted by urn at %d", i)
		}
	}
	if bytes.Contains(b, []byte(synth.MockPassword)) {
		t.Errorf("resources.json contains a secret value")
	}
}
