package foundation

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// flowLogAggregationSeconds is the shortest aggregation interval AWS offers;
// a minute is what an incident responder wants.
const flowLogAggregationSeconds = 60

// NetworkArgs configure the VPC.
type NetworkArgs struct {
	// Config is the network section of the stack config.
	Config config.NetworkConfig
	// Namer names every resource.
	Namer kit.Namer
	// ClusterName tags the subnets for the EKS cluster's load balancers.
	ClusterName string
	// Account is the AWS account, region and partition the VPC lives in.
	Account kit.Account
	// LogsKeyArn is the KMS key that encrypts the flow-log group.
	LogsKeyArn pulumi.StringInput
	// Protect keeps the flow-log group (config guards.protect).
	Protect bool
}

// Network is a VPC with public, private and isolated subnets in every zone.
type Network struct {
	pulumi.ResourceState

	// VpcId is the VPC's ID.
	VpcId pulumi.StringOutput
	// VpcCidr is the VPC's IPv4 block.
	VpcCidr string
	// Plan is every zone's subnet CIDRs, known before anything is created
	// (network policies name the database and cache subnets by CIDR).
	Plan []config.ZoneSubnets
	// PublicSubnetIds hold load balancers and NAT gateways, one per zone.
	PublicSubnetIds pulumi.StringArrayOutput
	// PrivateSubnetIds hold nodes and pods, one per zone, egress through NAT.
	PrivateSubnetIds pulumi.StringArrayOutput
	// IsolatedSubnetIds hold RDS and ElastiCache, one per zone, no route to the internet.
	IsolatedSubnetIds pulumi.StringArrayOutput
	// ControlPlaneSubnetIds hold only the EKS control plane's network
	// interfaces, one per zone, no route to the internet.
	ControlPlaneSubnetIds pulumi.StringArrayOutput
	// Egress are the private subnets' way out (NAT gateways, their route
	// tables and associations, the S3 endpoint). Whatever runs in the
	// private subnets depends on them: nodes need them to join (images,
	// the EKS and STS APIs), and a destroy then keeps them until every
	// node and controller is gone (the load balancer controller reaches
	// the ELB and EC2 APIs through them while it deletes the NLB).
	Egress []pulumi.Resource
}

// NewNetwork builds the VPC: subnets per zone, an internet gateway, NAT
// gateways (per zone or one shared), route tables, an S3 gateway endpoint
// and flow logs to an encrypted CloudWatch log group.
func NewNetwork(ctx *pulumi.Context, name string, args NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	plan, err := config.PlanSubnets(args.Config.VpcCidr, args.Config.AvailabilityZones)
	if err != nil {
		return nil, fmt.Errorf("planning subnets: %w", err)
	}
	net := &Network{VpcCidr: args.Config.VpcCidr, Plan: plan}
	if err := ctx.RegisterComponentResource("scrolluniversity:infra:Network", name, net, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(net)
	n := args.Namer
	tagged := func(name string, extra ...map[string]string) pulumi.StringMap {
		tags := pulumi.StringMap{"Name": pulumi.String(name)}
		for _, e := range extra {
			for k, v := range e {
				tags[k] = pulumi.String(v)
			}
		}
		return tags
	}
	clusterTag := "kubernetes.io/cluster/" + args.ClusterName

	vpc, err := ec2.NewVpc(ctx, n.Name("vpc"), &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.Config.VpcCidr),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tagged(n.Name("vpc")),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating VPC: %w", err)
	}
	// Adopting the default security group with no rules means nothing can
	// fall back to it and be reachable by accident (CIS AWS 5.4).
	if _, err := ec2.NewDefaultSecurityGroup(ctx, n.Name("default-sg"), &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  tagged(n.Name("default-deny")),
	}, parent); err != nil {
		return nil, fmt.Errorf("locking down the default security group: %w", err)
	}
	igw, err := ec2.NewInternetGateway(ctx, n.Name("igw"), &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tagged(n.Name("igw")),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating internet gateway: %w", err)
	}

	publicRT, err := ec2.NewRouteTable(ctx, n.Name("public"), &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{
			&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()},
		},
		Tags: tagged(n.Name("public")),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating public route table: %w", err)
	}
	isolatedRT, err := ec2.NewRouteTable(ctx, n.Name("isolated"), &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  tagged(n.Name("isolated")),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating isolated route table: %w", err)
	}

	var public, private, isolated, controlPlane pulumi.StringArray
	var privateRTs pulumi.StringArray
	var sharedNat *ec2.NatGateway
	for _, z := range plan {
		pub, err := ec2.NewSubnet(ctx, n.Name("public", z.Zone), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(z.Public.String()),
			AvailabilityZone: pulumi.String(z.Zone),
			// Nothing in a public subnet gets a public IP unless asked: only
			// NAT gateways (Elastic IPs) and load balancers live here.
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                tagged(n.Name("public", z.Zone), map[string]string{"kubernetes.io/role/elb": "1", clusterTag: "shared", "Tier": "public"}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating public subnet in %s: %w", z.Zone, err)
		}
		priv, err := ec2.NewSubnet(ctx, n.Name("private", z.Zone), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(z.Private.String()),
			AvailabilityZone: pulumi.String(z.Zone),
			Tags:             tagged(n.Name("private", z.Zone), map[string]string{"kubernetes.io/role/internal-elb": "1", clusterTag: "shared", "Tier": "private"}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating private subnet in %s: %w", z.Zone, err)
		}
		iso, err := ec2.NewSubnet(ctx, n.Name("isolated", z.Zone), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(z.Isolated.String()),
			AvailabilityZone: pulumi.String(z.Zone),
			Tags:             tagged(n.Name("isolated", z.Zone), map[string]string{"Tier": "isolated"}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating isolated subnet in %s: %w", z.Zone, err)
		}
		// The control plane's interfaces talk to the nodes only, inside the
		// VPC: the isolated route table (local routes) serves them.
		cp, err := ec2.NewSubnet(ctx, n.Name("control-plane", z.Zone), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(z.ControlPlane.String()),
			AvailabilityZone: pulumi.String(z.Zone),
			Tags:             tagged(n.Name("control-plane", z.Zone), map[string]string{"Tier": "control-plane"}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating control-plane subnet in %s: %w", z.Zone, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, n.Name("control-plane", z.Zone), &ec2.RouteTableAssociationArgs{
			SubnetId: cp.ID(), RouteTableId: isolatedRT.ID(),
		}, parent); err != nil {
			return nil, fmt.Errorf("associating control-plane subnet in %s: %w", z.Zone, err)
		}
		public, private, isolated, controlPlane = append(public, pub.ID()), append(private, priv.ID()), append(isolated, iso.ID()), append(controlPlane, cp.ID())

		if _, err := ec2.NewRouteTableAssociation(ctx, n.Name("public", z.Zone), &ec2.RouteTableAssociationArgs{
			SubnetId: pub.ID(), RouteTableId: publicRT.ID(),
		}, parent); err != nil {
			return nil, fmt.Errorf("associating public subnet in %s: %w", z.Zone, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, n.Name("isolated", z.Zone), &ec2.RouteTableAssociationArgs{
			SubnetId: iso.ID(), RouteTableId: isolatedRT.ID(),
		}, parent); err != nil {
			return nil, fmt.Errorf("associating isolated subnet in %s: %w", z.Zone, err)
		}

		nat := sharedNat
		if args.Config.NatGateways == config.NatPerZone || sharedNat == nil {
			eip, err := ec2.NewEip(ctx, n.Name("nat", z.Zone), &ec2.EipArgs{
				Domain: pulumi.String("vpc"),
				Tags:   tagged(n.Name("nat", z.Zone)),
			}, parent)
			if err != nil {
				return nil, fmt.Errorf("allocating NAT address in %s: %w", z.Zone, err)
			}
			net.Egress = append(net.Egress, eip)
			nat, err = ec2.NewNatGateway(ctx, n.Name("nat", z.Zone), &ec2.NatGatewayArgs{
				AllocationId: eip.ID(),
				SubnetId:     pub.ID(),
				Tags:         tagged(n.Name("nat", z.Zone)),
				// A NAT gateway needs the VPC's internet gateway to be attached
				// before it can route; no value flows between them.
			}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return nil, fmt.Errorf("creating NAT gateway in %s: %w", z.Zone, err)
			}
			if args.Config.NatGateways == config.NatSingle {
				sharedNat = nat
			}
			net.Egress = append(net.Egress, nat)
		}
		privRT, err := ec2.NewRouteTable(ctx, n.Name("private", z.Zone), &ec2.RouteTableArgs{
			VpcId: vpc.ID(),
			Routes: ec2.RouteTableRouteArray{
				&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()},
			},
			Tags: tagged(n.Name("private", z.Zone)),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating private route table in %s: %w", z.Zone, err)
		}
		privateRTs = append(privateRTs, privRT.ID())
		assoc, err := ec2.NewRouteTableAssociation(ctx, n.Name("private", z.Zone), &ec2.RouteTableAssociationArgs{
			SubnetId: priv.ID(), RouteTableId: privRT.ID(),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("associating private subnet in %s: %w", z.Zone, err)
		}
		net.Egress = append(net.Egress, privRT, assoc)
	}

	// S3 traffic (image layers, uploads, backups) stays on AWS's network and
	// costs no NAT processing. Its policy is the default full access, on
	// purpose: limited to the stack's buckets it would break pulls from
	// registries whose layers come from S3 in the region (quay.io), and
	// NAT reaches any bucket anyway (docs/COMPONENTS.md, EC2.10).
	s3, err := ec2.NewVpcEndpoint(ctx, n.Name("s3"), &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", args.Account.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   append(privateRTs, isolatedRT.ID()),
		Tags:            tagged(n.Name("s3")),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating S3 gateway endpoint: %w", err)
	}
	net.Egress = append(net.Egress, s3)

	if err := net.flowLogs(ctx, args, vpc, parent); err != nil {
		return nil, err
	}

	net.VpcId = vpc.ID().ToStringOutput()
	net.PublicSubnetIds = public.ToStringArrayOutput()
	net.PrivateSubnetIds = private.ToStringArrayOutput()
	net.IsolatedSubnetIds = isolated.ToStringArrayOutput()
	net.ControlPlaneSubnetIds = controlPlane.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(net, pulumi.Map{
		"vpcId":                 net.VpcId,
		"publicSubnetIds":       net.PublicSubnetIds,
		"privateSubnetIds":      net.PrivateSubnetIds,
		"isolatedSubnetIds":     net.IsolatedSubnetIds,
		"controlPlaneSubnetIds": net.ControlPlaneSubnetIds,
	}); err != nil {
		return nil, err
	}
	return net, nil
}

// flowLogs records every accepted and rejected flow in the VPC to a
// KMS-encrypted log group, written by a role only the flow-logs service of
// this account can assume.
func (net *Network) flowLogs(ctx *pulumi.Context, args NetworkArgs, vpc *ec2.Vpc, parent pulumi.ResourceOption) error {
	n := args.Namer
	group, err := kit.NewLogGroup(ctx, n.Name("flow-logs"), kit.LogGroup{
		Name: pulumi.Sprintf("/aws/vpc/%s/flow-logs", n.Prefix), RetentionDays: args.Config.FlowLogRetentionDays, KeyArn: args.LogsKeyArn, Keep: args.Protect,
	}, parent)
	if err != nil {
		return fmt.Errorf("creating flow-log group: %w", err)
	}
	role, err := kit.ServiceRole(ctx, n.Name("flow-logs"), "vpc-flow-logs.amazonaws.com", []string{"sts:AssumeRole"}, args.Account.AccountID, nil, parent)
	if err != nil {
		return fmt.Errorf("creating flow-log role: %w", err)
	}
	write := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
			iam.GetPolicyDocumentStatementArgs{
				Actions:   pulumi.ToStringArray([]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}),
				Resources: pulumi.StringArray{group.Arn, pulumi.Sprintf("%s:*", group.Arn)},
			},
		},
	}, pulumi.Parent(net))
	if _, err := iam.NewRolePolicy(ctx, n.Name("flow-logs"), &iam.RolePolicyArgs{
		Role:   role.Role.ID(),
		Policy: write.Json(),
	}, parent); err != nil {
		return fmt.Errorf("granting the flow-log role: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, n.Name("vpc"), &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Role.Arn,
		MaxAggregationInterval: pulumi.Int(flowLogAggregationSeconds),
		Tags:                   pulumi.StringMap{"Name": pulumi.String(n.Name("vpc"))},
	}, parent); err != nil {
		return fmt.Errorf("creating VPC flow log: %w", err)
	}
	return nil
}
