package foundation

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// ControlPlaneLogTypes are all the control-plane logs EKS can ship; audit and
// authenticator are the ones an incident needs, the rest are cheap.
var ControlPlaneLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

const (
	// imdsHopLimit 1 keeps IMDS answers on the node: a pod (one network hop
	// further) cannot reach the node role's credentials. Pods use IRSA.
	imdsHopLimit = 1
	// nodeMaxUnavailablePercent is how much of a node group a rolling AMI or
	// version update may take down at once.
	nodeMaxUnavailablePercent = 33
	// clusterAdminPolicy is EKS's access policy equal to cluster-admin.
	clusterAdminPolicy = "arn:%s:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
	// clusterAdminViewPolicy reads every resource, Secrets included, and
	// writes none (EKS's access policies, "AmazonEKSAdminViewPolicy").
	clusterAdminViewPolicy = "arn:%s:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
)

// ClusterArgs configure the EKS cluster.
type ClusterArgs struct {
	// Config is the cluster section of the stack config.
	Config config.ClusterConfig
	// Namer names every resource.
	Namer kit.Namer
	// Account is where the cluster lives.
	Account kit.Account
	// PrivateSubnetIds hold the nodes, one per zone in the order of Zones.
	PrivateSubnetIds pulumi.StringArrayOutput
	// ControlPlaneSubnetIds hold the control plane's network interfaces
	// (vpcConfig.subnetIds), and nothing else.
	ControlPlaneSubnetIds pulumi.StringArrayOutput
	// Zones are the availability zones, for zonal node groups.
	Zones []string
	// Tags are the stack's AWS tags. The provider's defaultTags do not reach
	// the instances and volumes an Auto Scaling group launches, so the
	// launch templates carry them.
	Tags map[string]string
	// Egress is the private subnets' way out (Network.Egress): the node
	// groups wait for it, and so everything on the cluster is deleted
	// before it on destroy.
	Egress []pulumi.Resource
	// EndpointCidrs are the ranges the public API endpoint allows
	// (EndpointCidrs: the config's and the delivery runners'); empty
	// turns the public endpoint off.
	EndpointCidrs []string
	// LogsKeyArn encrypts the control-plane log group.
	LogsKeyArn pulumi.StringInput
	// Protect guards the cluster and its Secrets encryption key (losing the
	// key makes every Kubernetes Secret unreadable) with Pulumi's protect.
	Protect bool
}

// Cluster is an EKS cluster with its node groups, add-ons, OIDC provider and
// a Kubernetes provider for everything that runs on it.
type Cluster struct {
	pulumi.ResourceState

	// Name is the EKS cluster name.
	Name pulumi.StringOutput
	// Endpoint is the API server URL.
	Endpoint pulumi.StringOutput
	// SecurityGroupId is the cluster security group EKS attaches to the
	// control plane and every managed node (and so every pod): the source
	// that database security groups admit.
	SecurityGroupId pulumi.StringOutput
	// OidcProviderArn is the IAM OIDC provider that IRSA roles trust.
	OidcProviderArn pulumi.StringOutput
	// OidcIssuer is the issuer URL without "https://", the prefix of IRSA
	// condition keys.
	OidcIssuer pulumi.StringOutput
	// Kubeconfig is a kubeconfig that authenticates with `aws eks get-token`
	// (secret).
	Kubeconfig pulumi.StringOutput
	// Provider is the Kubernetes provider for this cluster; every Kubernetes
	// resource uses it.
	Provider *kubernetes.Provider
}

// NewCluster builds the EKS control plane, node groups, add-ons, OIDC
// provider, default StorageClass and the Kubernetes provider.
func NewCluster(ctx *pulumi.Context, name string, args ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	c := &Cluster{}
	if err := ctx.RegisterComponentResource("scrolluniversity:infra:Cluster", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	n := args.Namer
	cfg := args.Config
	a := args.Account

	role, err := kit.ServiceRole(ctx, n.Name("cluster"), "eks.amazonaws.com", []string{"sts:AssumeRole", "sts:TagSession"}, "",
		[]string{fmt.Sprintf("arn:%s:iam::aws:policy/AmazonEKSClusterPolicy", a.Partition)}, parent)
	if err != nil {
		return nil, err
	}
	secretsKey, err := kit.NewKey(ctx, n.Name("eks-secrets"), a, kit.KeyArgs{Description: "Envelope encryption of Kubernetes Secrets in " + cfg.Name}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, err
	}
	kmsUse := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
			iam.GetPolicyDocumentStatementArgs{
				Actions:   pulumi.ToStringArray([]string{"kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"}),
				Resources: pulumi.StringArray{secretsKey.Arn},
			},
		},
	}, parent)
	rolePolicy, err := iam.NewRolePolicy(ctx, n.Name("cluster-secrets-key"), &iam.RolePolicyArgs{
		Role:   role.Role.ID(),
		Policy: kmsUse.Json(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("granting the cluster role its secrets key: %w", err)
	}
	// EKS creates this group on first log write with no retention and no
	// encryption; creating it first, under the exact name EKS uses, sets both.
	logGroup, err := kit.NewLogGroup(ctx, n.Name("control-plane"), kit.LogGroup{
		Name: pulumi.Sprintf("/aws/eks/%s/cluster", cfg.Name), RetentionDays: cfg.LogRetentionDays, KeyArn: args.LogsKeyArn, Keep: args.Protect,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating control-plane log group: %w", err)
	}

	cluster, err := eks.NewCluster(ctx, cfg.Name, &eks.ClusterArgs{
		Name:    pulumi.String(cfg.Name),
		Version: pulumi.String(cfg.KubernetesVersion),
		RoleArn: role.Role.Arn,
		VpcConfig: &eks.ClusterVpcConfigArgs{
			SubnetIds:             args.ControlPlaneSubnetIds,
			EndpointPrivateAccess: pulumi.Bool(true),
			// EKS reads an empty list as 0.0.0.0/0: the endpoint is public
			// only with ranges to allow.
			EndpointPublicAccess: pulumi.Bool(len(args.EndpointCidrs) > 0),
			PublicAccessCidrs:    pulumi.ToStringArray(args.EndpointCidrs),
		},
		KubernetesNetworkConfig: &eks.ClusterKubernetesNetworkConfigArgs{
			IpFamily:        pulumi.String("ipv4"),
			ServiceIpv4Cidr: pulumi.String(cfg.ServiceCidr),
		},
		AccessConfig: &eks.ClusterAccessConfigArgs{
			// Access entries only: no aws-auth ConfigMap to drift.
			AuthenticationMode: pulumi.String("API"),
			// No implicit admin for whoever created the cluster: the
			// deployer gets an explicit access entry below like every admin
			// (with the implicit one on, that entry would fail with
			// ResourceInUseException).
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(false),
		},
		// Standard support only: a version past it is upgraded by EKS rather
		// than billed for extended support without anyone deciding so.
		UpgradePolicy: &eks.ClusterUpgradePolicyArgs{SupportType: pulumi.String("STANDARD")},
		EncryptionConfig: &eks.ClusterEncryptionConfigArgs{
			Provider:  &eks.ClusterEncryptionConfigProviderArgs{KeyArn: secretsKey.Arn},
			Resources: pulumi.StringArray{pulumi.String("secrets")},
		},
		EnabledClusterLogTypes: pulumi.ToStringArray(ControlPlaneLogTypes),
		// The managed add-ons below replace the self-managed defaults.
		BootstrapSelfManagedAddons: pulumi.Bool(false),
	}, parent, pulumi.Protect(args.Protect),
		// The role needs its KMS grant, and the log group must exist before
		// EKS writes its first line; neither passes a value to the cluster.
		pulumi.DependsOn(append([]pulumi.Resource{rolePolicy, logGroup}, role.Attachments...)))
	if err != nil {
		return nil, fmt.Errorf("creating EKS cluster: %w", err)
	}
	c.Name = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.SecurityGroupId = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	issuerURL := cluster.Identities.Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer().Elem()
	c.OidcIssuer = issuerURL.ApplyT(func(u string) string { return strings.TrimPrefix(u, "https://") }).(pulumi.StringOutput)

	// The deployer's entry must exist before the provider below talks to
	// the cluster; the admins' need not.
	deployer, err := clusterAdmin(ctx, c, n, a, cluster.Name, cfg.DeployerRoleArn)
	if err != nil {
		return nil, err
	}
	for _, arn := range cfg.AdminRoleArns {
		if _, err := clusterAdmin(ctx, c, n, a, cluster.Name, arn); err != nil {
			return nil, err
		}
	}
	for _, arn := range cfg.ViewerRoleArns {
		if _, err := clusterAccess(ctx, c, n.Name("viewer", kit.PolicyShortName(arn)), a, cluster.Name, arn, clusterAdminViewPolicy); err != nil {
			return nil, err
		}
	}

	oidc, err := iam.NewOpenIdConnectProvider(ctx, n.Name("oidc"), &iam.OpenIdConnectProviderArgs{
		Url:           issuerURL,
		ClientIdLists: pulumi.StringArray{pulumi.String(kit.STSAudience)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating OIDC provider: %w", err)
	}
	c.OidcProviderArn = oidc.Arn

	addons, err := c.addons(ctx, args, cluster)
	if err != nil {
		return nil, err
	}
	nodeGroups, err := c.nodeGroups(ctx, args, cluster, append(append([]pulumi.Resource{}, addons.beforeNodes...), args.Egress...))
	if err != nil {
		return nil, err
	}
	coreAddons, err := c.addonsAfterNodes(ctx, args, cluster, addons, nodeGroups)
	if err != nil {
		return nil, err
	}

	c.Kubeconfig = pulumi.ToSecret(pulumi.All(cluster.Name, cluster.Endpoint, cluster.CertificateAuthority.Data().Elem()).ApplyT(
		func(v []any) (string, error) {
			return Kubeconfig(v[0].(string), v[1].(string), v[2].(string), a.Region)
		})).(pulumi.StringOutput)
	provider, err := kubernetes.NewProvider(ctx, n.Name("k8s"), &kubernetes.ProviderArgs{
		Kubeconfig:            c.Kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	}, parent,
		// Every Kubernetes object goes through this provider, so it is where
		// "the cluster is ready" is said once: the deployer may reach the
		// API, nodes have joined, and DNS and the EBS CSI driver run. Charts
		// that wait for their pods (atomic releases) would otherwise start
		// on a cluster without nodes and time out on a first deploy.
		pulumi.DependsOn(append(append([]pulumi.Resource{deployer}, nodeGroups...), coreAddons...)))
	if err != nil {
		return nil, fmt.Errorf("creating Kubernetes provider: %w", err)
	}
	c.Provider = provider

	if err := c.defaultStorageClass(ctx, args.Tags); err != nil {
		return nil, err
	}
	if err := c.autoscaler(ctx, args, nodeGroups); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":            c.Name,
		"endpoint":        c.Endpoint,
		"securityGroupId": c.SecurityGroupId,
		"oidcProviderArn": c.OidcProviderArn,
		"kubeconfig":      c.Kubeconfig,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// clusterAdmin gives an IAM role cluster-admin through an access entry. It is
// keyed by the role's name, not its position in the list, and returns the
// policy association (the grant takes effect with it).
func clusterAdmin(ctx *pulumi.Context, c *Cluster, n kit.Namer, a kit.Account, clusterName pulumi.StringInput, roleArn string) (pulumi.Resource, error) {
	return clusterAccess(ctx, c, n.Name("admin", kit.PolicyShortName(roleArn)), a, clusterName, roleArn, clusterAdminPolicy)
}

// clusterAccess gives one role an access entry with one cluster-wide
// access policy.
func clusterAccess(ctx *pulumi.Context, c *Cluster, key string, a kit.Account, clusterName pulumi.StringInput, roleArn, policy string) (pulumi.Resource, error) {
	entry, err := eks.NewAccessEntry(ctx, key, &eks.AccessEntryArgs{
		ClusterName:  clusterName,
		PrincipalArn: pulumi.String(roleArn),
		Type:         pulumi.String("STANDARD"),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("creating access entry for %s: %w", roleArn, err)
	}
	assoc, err := eks.NewAccessPolicyAssociation(ctx, key, &eks.AccessPolicyAssociationArgs{
		ClusterName:  clusterName,
		PrincipalArn: entry.PrincipalArn,
		PolicyArn:    pulumi.Sprintf(policy, a.Partition),
		AccessScope:  &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("granting %s to %s: %w", kit.PolicyShortName(policy), roleArn, err)
	}
	return assoc, nil
}

// IRSARole makes an IAM role that one service account of this cluster may
// assume (see kit.OIDC.Role).
func (c *Cluster) IRSARole(ctx *pulumi.Context, name string, args kit.IRSAArgs, opts ...pulumi.ResourceOption) (*kit.Role, error) {
	return c.OIDC().Role(ctx, name, args, opts...)
}

// OIDC is what IRSA roles of this cluster trust.
func (c *Cluster) OIDC() kit.OIDC {
	return kit.OIDC{ProviderArn: c.OidcProviderArn, Issuer: c.OidcIssuer}
}

// installedAddons are the add-ons installed so far, by name.
type installedAddons struct {
	beforeNodes []pulumi.Resource
	versions    map[string]string
}

// addons installs the add-ons nodes need to join and get pod networking
// (vpc-cni with its IRSA role, kube-proxy); the rest wait for nodes.
func (c *Cluster) addons(ctx *pulumi.Context, args ClusterArgs, cluster *eks.Cluster) (*installedAddons, error) {
	// Every add-on's version is the stack's pin (validated, and checked
	// against what AWS publishes by the preflight): never AWS's current
	// default, which would upgrade add-ons on an unrelated update.
	out := &installedAddons{versions: args.Config.AddonVersions}
	cniRole, err := c.IRSARole(ctx, args.Namer.Name("vpc-cni"), kit.IRSAArgs{
		Namespace: "kube-system", ServiceAccount: "aws-node",
		PolicyArns: []string{fmt.Sprintf("arn:%s:iam::aws:policy/AmazonEKS_CNI_Policy", args.Account.Partition)},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	// The VPC CNI enforces NetworkPolicies only when asked to; without it
	// every policy the app tier writes would be silently ignored.
	cniConfig, err := json.Marshal(map[string]string{"enableNetworkPolicy": "true"})
	if err != nil {
		return nil, err
	}
	// aws-node must not start before its role may do what it asks.
	cni, err := c.addon(ctx, args, cluster, "vpc-cni", out.versions["vpc-cni"], cniRole.Role.Arn, pulumi.String(string(cniConfig)), pulumi.DependsOn(cniRole.Attachments))
	if err != nil {
		return nil, err
	}
	proxy, err := c.addon(ctx, args, cluster, "kube-proxy", out.versions["kube-proxy"], nil, nil)
	if err != nil {
		return nil, err
	}
	out.beforeNodes = []pulumi.Resource{cni, proxy}
	return out, nil
}

// addonsAfterNodes installs the add-ons that run as Deployments: created
// before any node exists they stay DEGRADED and time out the update.
func (c *Cluster) addonsAfterNodes(ctx *pulumi.Context, args ClusterArgs, cluster *eks.Cluster, installed *installedAddons, nodes []pulumi.Resource) ([]pulumi.Resource, error) {
	// AWS's cluster-scoped policy: every volume, snapshot and instance
	// action is conditioned on the resource's cluster-name tag equalling
	// the role's eks-cluster-name tag, so that a stack's driver cannot
	// touch another cluster's volumes in the same account (the older
	// AmazonEBSCSIDriverPolicy allows any volume tagged by any cluster's
	// driver). The EKS add-on runs the driver with --k8s-tag-cluster-id,
	// so the volumes it creates carry ebs.csi.aws.com/cluster-name
	// (kubernetes-sigs/aws-ebs-csi-driver #2918; MinEBSCSIDriverVersion).
	ebsRole, err := c.IRSARole(ctx, args.Namer.Name("ebs-csi"), kit.IRSAArgs{
		Namespace: "kube-system", ServiceAccount: "ebs-csi-controller-sa",
		PolicyArns: []string{EBSCSIPolicyArn(args.Account.Partition)},
		Tags:       map[string]string{"eks-cluster-name": args.Config.Name},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	roles := map[string]pulumi.StringPtrInput{"aws-ebs-csi-driver": ebsRole.Role.Arn}
	after := map[string][]pulumi.Resource{"aws-ebs-csi-driver": ebsRole.Attachments}
	var out []pulumi.Resource
	for _, name := range []string{"coredns", "aws-ebs-csi-driver", "metrics-server"} {
		addon, err := c.addon(ctx, args, cluster, name, installed.versions[name], roles[name], nil, pulumi.DependsOn(append(append([]pulumi.Resource{}, nodes...), after[name]...)))
		if err != nil {
			return nil, err
		}
		out = append(out, addon)
	}
	return out, nil
}

// EBSCSIPolicyArn is AWS's managed AmazonEBSCSIDriverEKSClusterScopedPolicy
// (at the policy root, unlike service-role/AmazonEBSCSIDriverPolicy).
func EBSCSIPolicyArn(partition string) string {
	return fmt.Sprintf("arn:%s:iam::aws:policy/AmazonEBSCSIDriverEKSClusterScopedPolicy", partition)
}

func (c *Cluster) addon(ctx *pulumi.Context, args ClusterArgs, cluster *eks.Cluster, name, version string, role, configuration pulumi.StringPtrInput, opts ...pulumi.ResourceOption) (*eks.Addon, error) {
	addon, err := eks.NewAddon(ctx, args.Namer.Name(name), &eks.AddonArgs{
		ClusterName:  cluster.Name,
		AddonName:    pulumi.String(name),
		AddonVersion: pulumi.String(version),
		// Take over whatever EKS left behind on create; never overwrite
		// changes made on the cluster on update.
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("PRESERVE"),
		ServiceAccountRoleArn:    role,
		ConfigurationValues:      configuration,
	}, append([]pulumi.ResourceOption{pulumi.Parent(c)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("installing add-on %s: %w", name, err)
	}
	return addon, nil
}

// nodeGroups creates one managed node group per configured group, each with
// a launch template that enforces IMDSv2 and encrypted gp3 root volumes.
func (c *Cluster) nodeGroups(ctx *pulumi.Context, args ClusterArgs, cluster *eks.Cluster, after []pulumi.Resource) ([]pulumi.Resource, error) {
	n := args.Namer
	a := args.Account
	role, err := kit.ServiceRole(ctx, n.Name("node"), "ec2.amazonaws.com", []string{"sts:AssumeRole"}, "", []string{
		fmt.Sprintf("arn:%s:iam::aws:policy/AmazonEKSWorkerNodePolicy", a.Partition),
		fmt.Sprintf("arn:%s:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", a.Partition),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	var groups []pulumi.Resource
	for _, name := range slices.Sorted(maps.Keys(args.Config.NodeGroups)) {
		ng := args.Config.NodeGroups[name]
		lt, err := ec2.NewLaunchTemplate(ctx, n.Name("nodes", name), &ec2.LaunchTemplateArgs{
			Description: pulumi.Sprintf("EKS node group %s", name),
			MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
				HttpEndpoint:            pulumi.String("enabled"),
				HttpTokens:              pulumi.String("required"),
				HttpPutResponseHopLimit: pulumi.Int(imdsHopLimit),
			},
			BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{
				&ec2.LaunchTemplateBlockDeviceMappingArgs{
					DeviceName: pulumi.String(NodeVolumeDevice(args.Config.AmiType)),
					Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
						VolumeSize:          pulumi.Int(ng.DiskSizeGiB),
						VolumeType:          pulumi.String("gp3"),
						Encrypted:           pulumi.String("true"),
						DeleteOnTermination: pulumi.String("true"),
					},
				},
			},
			TagSpecifications: launchTemplateTags(args.Tags, n.Name(name)),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("creating launch template for node group %s: %w", name, err)
		}
		taints := eks.NodeGroupTaintArray{}
		for _, t := range ng.Taints {
			taints = append(taints, &eks.NodeGroupTaintArgs{Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(EKSTaintEffect(t.Effect))})
		}
		prefixes := config.NodeGroupPrefixes(name, ng.Zonal, args.Zones)
		for i, prefix := range prefixes {
			logical, subnets := n.Name(name), pulumi.StringArrayInput(args.PrivateSubnetIds)
			if ng.Zonal {
				// Keyed by the zone, not its position: adding a zone
				// never replaces another zone's group.
				logical = n.Name(name, args.Zones[i])
				subnets = pulumi.StringArray{args.PrivateSubnetIds.Index(pulumi.Int(i))}
			}
			group, err := eks.NewNodeGroup(ctx, logical, &eks.NodeGroupArgs{
				ClusterName: cluster.Name,
				// A prefix, not a name: changing instance types or capacity
				// replaces the group, and the new one must come up (under a
				// new name) before the old one drains.
				NodeGroupNamePrefix: pulumi.String(prefix),
				NodeRoleArn:         role.Role.Arn,
				SubnetIds:           subnets,
				Version:             cluster.Version,
				AmiType:             pulumi.String(args.Config.AmiType),
				CapacityType:        pulumi.String(ng.CapacityType),
				InstanceTypes:       pulumi.ToStringArray(ng.InstanceTypes),
				ScalingConfig: &eks.NodeGroupScalingConfigArgs{
					MinSize: pulumi.Int(ng.MinSize), DesiredSize: pulumi.Int(ng.DesiredSize), MaxSize: pulumi.Int(ng.MaxSize),
				},
				UpdateConfig:   &eks.NodeGroupUpdateConfigArgs{MaxUnavailablePercentage: pulumi.Int(nodeMaxUnavailablePercent)},
				Labels:         pulumi.ToStringMap(ng.Labels),
				Taints:         taints,
				LaunchTemplate: &eks.NodeGroupLaunchTemplateArgs{Id: lt.ID(), Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput)},
			}, pulumi.Parent(c),
				// The autoscaler owns the current size; config owns the bounds.
				pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}),
				// Nodes need pod networking (vpc-cni and its IRSA role) and the
				// node role's policies the moment they boot.
				pulumi.DependsOn(append(append([]pulumi.Resource{}, after...), role.Attachments...)))
			if err != nil {
				return nil, fmt.Errorf("creating node group %s: %w", logical, err)
			}
			groups = append(groups, group)
		}
	}
	return groups, nil
}

// launchTemplateTags tag what a node group's Auto Scaling group launches
// (instances, their volumes and network interfaces) with the stack's tags:
// the provider's defaultTags reach only resources Pulumi creates itself.
func launchTemplateTags(tags map[string]string, name string) ec2.LaunchTemplateTagSpecificationArray {
	all := pulumi.StringMap{"Name": pulumi.String(name)}
	for k, v := range tags {
		all[k] = pulumi.String(v)
	}
	var out ec2.LaunchTemplateTagSpecificationArray
	for _, kind := range []string{"instance", "volume", "network-interface"} {
		out = append(out, &ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String(kind), Tags: all})
	}
	return out
}

// NodeVolumeDevice is the device of the volume that holds images and pods:
// the root volume on AL2023, the data volume on Bottlerocket.
func NodeVolumeDevice(amiType string) string {
	if strings.HasPrefix(amiType, "BOTTLEROCKET") {
		return "/dev/xvdb"
	}
	return "/dev/xvda"
}

// EKSTaintEffect maps a Kubernetes taint effect to the EKS API's spelling.
func EKSTaintEffect(effect string) string {
	switch effect {
	case "NoSchedule":
		return "NO_SCHEDULE"
	case "NoExecute":
		return "NO_EXECUTE"
	case "PreferNoSchedule":
		return "PREFER_NO_SCHEDULE"
	}
	return effect
}

// defaultStorageClass makes encrypted gp3 the cluster's default: EKS's own
// gp2 class is neither encrypted nor default on current versions.
//
// The volumes it provisions carry the stack's tags (tagSpecification_N),
// so that cost reports see them: the provider's defaultTags reach only
// what Pulumi creates.
func (c *Cluster) defaultStorageClass(ctx *pulumi.Context, tags map[string]string) error {
	_, err := storagev1.NewStorageClass(ctx, "gp3", &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String("gp3"),
			Annotations: pulumi.StringMap{"storageclass.kubernetes.io/is-default-class": pulumi.String("true")},
		},
		Provisioner: pulumi.String("ebs.csi.aws.com"),
		Parameters:  storageClassParameters(tags),
		// Bind in the zone the pod is scheduled to, not a random one.
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		AllowVolumeExpansion: pulumi.Bool(true),
		ReclaimPolicy:        pulumi.String("Delete"),
	}, pulumi.Parent(c), pulumi.Provider(c.Provider))
	if err != nil {
		return fmt.Errorf("creating gp3 StorageClass: %w", err)
	}
	return nil
}

// storageClassParameters are gp3, encrypted, and each stack tag as the EBS
// CSI driver's tagSpecification_N ("key=value", docs/tagging.md), in key
// order so that the class does not change between runs.
func storageClassParameters(tags map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{"type": pulumi.String("gp3"), "encrypted": pulumi.String("true")}
	for i, k := range slices.Sorted(maps.Keys(tags)) {
		out[fmt.Sprintf("tagSpecification_%d", i+1)] = pulumi.String(k + "=" + tags[k])
	}
	return out
}

// autoscalerSA is the Cluster Autoscaler's service account in kube-system.
const autoscalerSA = "cluster-autoscaler"

// autoscalerUID is the nonroot user of the distroless image the autoscaler
// ships in (gcr.io/distroless/static:nonroot, uid 65532); the group also
// owns the IRSA token, so the process can read it.
const autoscalerUID = 65532

// autoscaler installs the Cluster Autoscaler: node groups grow when pods
// cannot be scheduled (an HPA scaling out, with one replica per node) and
// shrink when nodes sit idle, always within the configured bounds. Its IRSA
// role may resize only the Auto Scaling groups EKS tagged as this cluster's.
func (c *Cluster) autoscaler(ctx *pulumi.Context, args ClusterArgs, nodeGroups []pulumi.Resource) error {
	n := args.Namer
	cfg := args.Config
	policy := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
			// Describe calls have no resource-level permissions.
			iam.GetPolicyDocumentStatementArgs{
				Actions: pulumi.ToStringArray([]string{
					"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
					"autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
					"ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
					"ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup",
				}),
				Resources: pulumi.StringArray{pulumi.String("*")},
			},
			iam.GetPolicyDocumentStatementArgs{
				Actions:   pulumi.ToStringArray([]string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}),
				Resources: pulumi.StringArray{pulumi.String("*")},
				Conditions: iam.GetPolicyDocumentStatementConditionArray{
					iam.GetPolicyDocumentStatementConditionArgs{
						Test: pulumi.String("StringEquals"), Variable: pulumi.String("aws:ResourceTag/k8s.io/cluster-autoscaler/" + cfg.Name),
						Values: pulumi.StringArray{pulumi.String("owned")},
					},
				},
			},
		},
	}, pulumi.Parent(c))
	role, err := c.IRSARole(ctx, n.Name("cluster-autoscaler"), kit.IRSAArgs{
		Namespace: "kube-system", ServiceAccount: autoscalerSA, Policy: policy.Json(),
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	_, err = kit.NewRelease(ctx, kit.Chart{
		Name:      "cluster-autoscaler",
		Chart:     "cluster-autoscaler",
		Version:   cfg.Autoscaler.Chart,
		Repo:      "https://kubernetes.github.io/autoscaler",
		Mirror:    cfg.ChartRepository,
		Namespace: "kube-system",
		Values: pulumi.Map{
			"cloudProvider": pulumi.String("aws"),
			"awsRegion":     pulumi.String(args.Account.Region),
			"autoDiscovery": pulumi.Map{"clusterName": pulumi.String(cfg.Name)},
			"image":         pulumi.Map{"tag": pulumi.String(cfg.Autoscaler.ImageTag)},
			"resources":     pulumi.ToMap(kit.ResourcesMap(cfg.Autoscaler.Resources)),
			// The chart sets no security context. The image is distroless
			// and needs no root, capability or writable root filesystem.
			"securityContext": pulumi.Map{
				"runAsNonRoot": pulumi.Bool(true), "runAsUser": pulumi.Int(autoscalerUID), "runAsGroup": pulumi.Int(autoscalerUID),
				"fsGroup":        pulumi.Int(autoscalerUID),
				"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
			},
			"containerSecurityContext": pulumi.Map{
				"allowPrivilegeEscalation": pulumi.Bool(false), "readOnlyRootFilesystem": pulumi.Bool(true),
				"capabilities": pulumi.Map{"drop": pulumi.ToStringArray([]string{"ALL"})},
			},
			"rbac": pulumi.Map{
				"serviceAccount": pulumi.Map{
					"create": pulumi.Bool(true), "name": pulumi.String(autoscalerSA),
					"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": role.Role.Arn},
				},
				// Autoscaler 1.36 always watches DRA objects
				// (--enable-dynamic-resource-allocation is locked to
				// true, config/flags/flags.go:236,310); chart 9.52.1's
				// ClusterRole predates that (charts from 9.55 grant it).
				"additionalRules": pulumi.Array{pulumi.Map{
					"apiGroups": pulumi.ToStringArray([]string{"resource.k8s.io"}),
					"resources": pulumi.ToStringArray([]string{"resourceslices", "deviceclasses", "resourceclaims"}),
					"verbs":     pulumi.ToStringArray([]string{"get", "list", "watch"}),
				}},
			},
			"extraArgs": pulumi.Map{
				// Spread scale-ups over the zones' groups alike.
				"balance-similar-node-groups": pulumi.Bool(true),
				"expander":                    pulumi.String("least-waste"),
				"skip-nodes-with-system-pods": pulumi.Bool(false),
				// Every emptyDir of the platform is scratch (/tmp, caches):
				// by default (true) a node with any such pod is never
				// removed, so scale-down would never happen (k8s F14).
				"skip-nodes-with-local-storage": pulumi.Bool(false),
			},
			// It belongs with the other cluster add-ons on the system nodes:
			// the toleration lets it there, the selector keeps it there
			// (k8s F15), so that it never runs on a node it may remove.
			"tolerations":  pulumi.MapArray{pulumi.Map{"key": pulumi.String("CriticalAddonsOnly"), "operator": pulumi.String("Exists")}},
			"nodeSelector": pulumi.ToStringMap(CriticalAddonsPool(cfg.NodeGroups)),
		},
	}, pulumi.Parent(c), pulumi.Provider(c.Provider),
		// It discovers the node groups' Auto Scaling groups by tag and
		// needs its role's policy in place; neither passes a value.
		pulumi.DependsOn(append(append([]pulumi.Resource{}, nodeGroups...), role.Attachments...)))
	return err
}

// kubeconfig is the subset of the kubeconfig format the provider reads,
// marshalled rather than templated so that values are always escaped.
type kubeconfig struct {
	APIVersion     string              `json:"apiVersion"`
	Kind           string              `json:"kind"`
	Clusters       []namedCluster      `json:"clusters"`
	Contexts       []namedContext      `json:"contexts"`
	CurrentContext string              `json:"current-context"`
	Users          []namedUser         `json:"users"`
	Preferences    map[string]struct{} `json:"preferences"`
}

type namedCluster struct {
	Name    string `json:"name"`
	Cluster struct {
		Server                   string `json:"server"`
		CertificateAuthorityData string `json:"certificate-authority-data"`
	} `json:"cluster"`
}

type namedContext struct {
	Name    string `json:"name"`
	Context struct {
		Cluster string `json:"cluster"`
		User    string `json:"user"`
	} `json:"context"`
}

type namedUser struct {
	Name string `json:"name"`
	User struct {
		Exec execConfig `json:"exec"`
	} `json:"user"`
}

type execConfig struct {
	APIVersion      string   `json:"apiVersion"`
	Command         string   `json:"command"`
	Args            []string `json:"args"`
	InteractiveMode string   `json:"interactiveMode"`
}

// Kubeconfig renders a kubeconfig (JSON, which every kubeconfig reader
// accepts) that gets short-lived tokens from `aws eks get-token`.
func Kubeconfig(clusterName, endpoint, caData, region string) (string, error) {
	kc := kubeconfig{APIVersion: "v1", Kind: "Config", CurrentContext: clusterName, Preferences: map[string]struct{}{}}
	cl := namedCluster{Name: clusterName}
	cl.Cluster.Server = endpoint
	cl.Cluster.CertificateAuthorityData = caData
	kc.Clusters = []namedCluster{cl}
	cx := namedContext{Name: clusterName}
	cx.Context.Cluster = clusterName
	cx.Context.User = clusterName
	kc.Contexts = []namedContext{cx}
	u := namedUser{Name: clusterName}
	u.User.Exec = execConfig{
		APIVersion:      "client.authentication.k8s.io/v1beta1",
		Command:         "aws",
		Args:            []string{"eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"},
		InteractiveMode: "Never",
	}
	kc.Users = []namedUser{u}
	b, err := json.MarshalIndent(kc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("marshalling kubeconfig: %w", err)
	}
	return string(b), nil
}

// CriticalAddonsPool is the node labels of the node group tainted
// CriticalAddonsOnly (the system pool) that the cluster add-ons run on;
// empty when no group carries that taint.
func CriticalAddonsPool(groups map[string]config.NodeGroupConfig) map[string]string {
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, t := range groups[n].Taints {
			if t.Key == "CriticalAddonsOnly" {
				return groups[n].Labels
			}
		}
	}
	return map[string]string{}
}
