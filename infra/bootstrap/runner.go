package bootstrap

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/kit"
)

// The delivery runners: where every job that talks to a cluster runs
// (previews, drift, deploys). GitHub-hosted runners egress from thousands
// of ranges GitHub changes without notice, so the EKS endpoints cannot
// allow them; these runners sit in private subnets of a small VPC of
// their own and leave through one NAT gateway, whose Elastic IP is the one
// address the clusters' public endpoints allow. The bootstrap publishes it
// in SSM (RunnerEgressParameter) and each stack reads it from there
// (cluster.runnerEgressParameter), so no address is copied by hand.
//
// Each instance runs one job (an ephemeral runner, runner-setup.sh) and
// terminates; the group keeps RunnerCount waiting. A job reaches neither
// the instance role nor its user data (IMDS is blocked for the job's
// user), authenticates to AWS with its own OIDC role, and leaves nothing
// for the next.

//go:embed runner-setup.sh
var runnerSetup string

// RunnerSetup is the runners' boot script (tested on its own).
func RunnerSetup() string { return runnerSetup }

// RunnerLabel is the label the workflows' cluster jobs run on.
const RunnerLabel = "scrolluniversity-delivery"

// runnerUserData is the script with its inputs set above it.
func runnerUserData(cfg Config, secretName string) string {
	vars := []string{
		"REPOSITORY=" + cfg.Repository,
		"RUNNER_VERSION=" + cfg.RunnerVersion,
		"RUNNER_SHA256=" + cfg.RunnerSha256,
		"LABELS=" + RunnerLabel,
		"TOKEN_SECRET=" + secretName,
		"REGION=" + cfg.Region,
	}
	script := strings.Replace(runnerSetup, "set -euo pipefail\n", "set -euo pipefail\nexport "+strings.Join(vars, " ")+"\n", 1)
	return base64.StdEncoding.EncodeToString([]byte(script))
}

type runners struct {
	egressIP pulumi.StringOutput
	secret   *secretsmanager.Secret
	group    *autoscaling.Group
}

func newRunners(ctx *pulumi.Context, cfg Config, n kit.Namer, opts ...pulumi.ResourceOption) (*runners, error) {
	vpc, err := ec2.NewVpc(ctx, n.Name("delivery"), &ec2.VpcArgs{
		CidrBlock: pulumi.String(cfg.RunnerCidr), EnableDnsHostnames: pulumi.Bool(true), EnableDnsSupport: pulumi.Bool(true),
		Tags: pulumi.StringMap{"Name": pulumi.String(n.Name("delivery"))},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the delivery VPC: %w", err)
	}
	// The VPC's default security group admits its members to each other:
	// emptied, as on the platform's VPCs (FSBP EC2.2).
	if _, err := ec2.NewDefaultSecurityGroup(ctx, n.Name("delivery-default"), &ec2.DefaultSecurityGroupArgs{VpcId: vpc.ID()}, opts...); err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, n.Name("delivery"), &ec2.InternetGatewayArgs{VpcId: vpc.ID()}, opts...)
	if err != nil {
		return nil, err
	}
	subnets := RunnerSubnets(cfg.RunnerCidr)
	public, err := ec2.NewSubnet(ctx, n.Name("delivery-public"), &ec2.SubnetArgs{
		VpcId: vpc.ID(), CidrBlock: pulumi.String(subnets[0]), AvailabilityZone: pulumi.String(cfg.RunnerZones[0]),
		Tags: pulumi.StringMap{"Name": pulumi.String(n.Name("delivery-public"))},
	}, opts...)
	if err != nil {
		return nil, err
	}
	publicRoutes, err := ec2.NewRouteTable(ctx, n.Name("delivery-public"), &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
	}, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRouteTableAssociation(ctx, n.Name("delivery-public"), &ec2.RouteTableAssociationArgs{SubnetId: public.ID(), RouteTableId: publicRoutes.ID()}, opts...); err != nil {
		return nil, err
	}
	eip, err := ec2.NewEip(ctx, n.Name("delivery-egress"), &ec2.EipArgs{Domain: pulumi.String("vpc")},
		// The clusters allow this address: replacing it locks CI out
		// until every stack is updated.
		append(opts, pulumi.Protect(true))...)
	if err != nil {
		return nil, err
	}
	nat, err := ec2.NewNatGateway(ctx, n.Name("delivery"), &ec2.NatGatewayArgs{AllocationId: eip.AllocationId, SubnetId: public.ID()},
		append(opts, pulumi.DependsOn([]pulumi.Resource{igw}))...)
	if err != nil {
		return nil, err
	}
	privateRoutes, err := ec2.NewRouteTable(ctx, n.Name("delivery-private"), &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
	}, opts...)
	if err != nil {
		return nil, err
	}
	var private pulumi.StringArray
	var associations []pulumi.Resource
	for i, zone := range cfg.RunnerZones {
		s, err := ec2.NewSubnet(ctx, n.Name("delivery-private", zone), &ec2.SubnetArgs{
			VpcId: vpc.ID(), CidrBlock: pulumi.String(subnets[1+i]), AvailabilityZone: pulumi.String(zone),
			Tags: pulumi.StringMap{"Name": pulumi.String(n.Name("delivery-private", zone))},
		}, opts...)
		if err != nil {
			return nil, err
		}
		a, err := ec2.NewRouteTableAssociation(ctx, n.Name("delivery-private", zone), &ec2.RouteTableAssociationArgs{SubnetId: s.ID(), RouteTableId: privateRoutes.ID()}, opts...)
		if err != nil {
			return nil, err
		}
		private = append(private, s.ID())
		associations = append(associations, a)
	}

	// Nothing comes in; out, HTTPS only (GitHub, the module proxy, AWS
	// APIs, the EKS endpoints, package repositories). The VPC resolver and
	// the time service are not filtered by security groups.
	sg, err := ec2.NewSecurityGroup(ctx, n.Name("delivery-runner"), &ec2.SecurityGroupArgs{
		VpcId: vpc.ID(), Description: pulumi.String("delivery runners: HTTPS out, nothing in"),
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443), CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")},
			Description: pulumi.String("HTTPS to GitHub, AWS and the Go module proxy"),
		}},
	}, opts...)
	if err != nil {
		return nil, err
	}

	// The GitHub credential that mints registration tokens (a GitHub App
	// installation token or a fine-grained token with the repository's
	// Administration: write): its value is put by an administrator
	// (docs/DEPLOYMENT.md), never by Pulumi, so it is in no state file.
	secret, err := secretsmanager.NewSecret(ctx, n.Name("runner-registration"), &secretsmanager.SecretArgs{
		Name:        pulumi.String(n.Name("delivery", "github-runner-registration")),
		Description: pulumi.String("GitHub credential the delivery runners register with (value set by hand)"),
	}, opts...)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, n.Name("runner"), &iam.RoleArgs{
		Name: pulumi.String(n.Name("runner")),
		AssumeRolePolicy: pulumi.String(mustDocument(Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"},
			Principal: map[string]any{"Service": "ec2.amazonaws.com"}})),
		Description: pulumi.String("delivery runner instances: read their registration secret, nothing else"),
	}, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, n.Name("runner-registration"), &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: secret.Arn.ApplyT(func(arn string) (string, error) {
			return Document(Statement{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{arn}})
		}).(pulumi.StringOutput),
	}, opts...); err != nil {
		return nil, err
	}
	profile, err := iam.NewInstanceProfile(ctx, n.Name("runner"), &iam.InstanceProfileArgs{Name: pulumi.String(n.Name("runner")), Role: role.Name}, opts...)
	if err != nil {
		return nil, err
	}
	ami, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}, kit.InvokeOptions(opts)...)
	if err != nil {
		return nil, fmt.Errorf("looking up the Amazon Linux 2023 AMI: %w", err)
	}
	template, err := ec2.NewLaunchTemplate(ctx, n.Name("delivery-runner"), &ec2.LaunchTemplateArgs{
		ImageId:      pulumi.String(ami.Value),
		InstanceType: pulumi.String(cfg.RunnerInstanceType),
		// An ephemeral runner powers off after its job: the instance goes
		// and the group starts a clean one.
		InstanceInitiatedShutdownBehavior: pulumi.String("terminate"),
		IamInstanceProfile:                &ec2.LaunchTemplateIamInstanceProfileArgs{Arn: profile.Arn},
		VpcSecurityGroupIds:               pulumi.StringArray{sg.ID()},
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize: pulumi.Int(cfg.RunnerDiskGiB), VolumeType: pulumi.String("gp3"), Encrypted: pulumi.String("true"), DeleteOnTermination: pulumi.String("true"),
			},
		}},
		UserData:          secret.Name.ApplyT(func(name string) string { return runnerUserData(cfg, name) }).(pulumi.StringOutput),
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: pulumi.StringMap{"Name": pulumi.String(n.Name("delivery-runner")), "Environment": pulumi.String("bootstrap")}}, ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: pulumi.StringMap{"Name": pulumi.String(n.Name("delivery-runner")), "Environment": pulumi.String("bootstrap")}}},
	}, opts...)
	if err != nil {
		return nil, err
	}
	group, err := autoscaling.NewGroup(ctx, n.Name("delivery-runners"), &autoscaling.GroupArgs{
		MinSize: pulumi.Int(cfg.RunnerCount), MaxSize: pulumi.Int(cfg.RunnerCount), DesiredCapacity: pulumi.Int(cfg.RunnerCount),
		VpcZoneIdentifiers: private,
		LaunchTemplate:     &autoscaling.GroupLaunchTemplateArgs{Id: template.ID(), Version: template.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput)},
		// A changed template (a runner version bump) replaces the waiting
		// runners; one busy with a job finishes it first (its instance is
		// replaced once it powers off).
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{Strategy: pulumi.String("Rolling"), Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{MinHealthyPercentage: pulumi.Int(0)}},
		Tags: autoscaling.GroupTagArray{
			autoscaling.GroupTagArgs{Key: pulumi.String("Name"), Value: pulumi.String(n.Name("delivery-runner")), PropagateAtLaunch: pulumi.Bool(true)},
			autoscaling.GroupTagArgs{Key: pulumi.String("Environment"), Value: pulumi.String("bootstrap"), PropagateAtLaunch: pulumi.Bool(true)},
		},
	}, append(opts, pulumi.DependsOn(append([]pulumi.Resource{nat}, associations...)))...)
	if err != nil {
		return nil, err
	}
	egress := eip.PublicIp.ApplyT(func(ip string) string { return ip + "/32" }).(pulumi.StringOutput)
	if _, err := ssm.NewParameter(ctx, n.Name("runner-egress"), &ssm.ParameterArgs{
		Name: pulumi.String(RunnerEgressParameter(cfg.Name)), Type: pulumi.String("StringList"), Value: egress,
		Description: pulumi.String("the delivery runners' egress: the platform clusters' public endpoints allow it"),
	}, opts...); err != nil {
		return nil, err
	}
	return &runners{egressIP: egress, secret: secret, group: group}, nil
}

// RunnerSubnets splits the delivery VPC's CIDR (a /24) into a public /26
// for the NAT gateway and a private /26 per runner zone.
func RunnerSubnets(cidr string) []string {
	base := strings.TrimSuffix(cidr, ".0/24")
	return []string{base + ".0/26", base + ".64/26", base + ".128/26", base + ".192/26"}
}

func mustDocument(s ...Statement) string {
	d, err := Document(s...)
	if err != nil {
		panic(err)
	}
	return d
}
