package kit

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// STSAudience is the audience IRSA tokens are issued for.
const STSAudience = "sts.amazonaws.com"

// InvokeOptions keeps the options that also apply to provider functions
// (parent, provider), so that a policy-document lookup made for a resource
// goes through the same provider as the resource.
func InvokeOptions(opts []pulumi.ResourceOption) []pulumi.InvokeOption {
	out := []pulumi.InvokeOption{}
	for _, o := range opts {
		if io, ok := o.(pulumi.InvokeOption); ok {
			out = append(out, io)
		}
	}
	return out
}

// Role is an IAM role and its managed-policy attachments, which whatever
// uses the role must wait for.
type Role struct {
	Role        *iam.Role
	Attachments []pulumi.Resource
}

// ServiceRole makes a role that one AWS service may assume (optionally only
// on behalf of one account), with AWS managed policies attached.
func ServiceRole(ctx *pulumi.Context, name, service string, actions []string, sourceAccount string, policyArns []string, opts ...pulumi.ResourceOption) (*Role, error) {
	stmt := iam.GetPolicyDocumentStatementArgs{
		Actions: pulumi.ToStringArray(actions),
		Principals: iam.GetPolicyDocumentStatementPrincipalArray{
			iam.GetPolicyDocumentStatementPrincipalArgs{Type: pulumi.String("Service"), Identifiers: pulumi.StringArray{pulumi.String(service)}},
		},
	}
	if sourceAccount != "" {
		// Confused-deputy guard: the service acts for this account only.
		stmt.Conditions = iam.GetPolicyDocumentStatementConditionArray{
			iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String("StringEquals"), Variable: pulumi.String("aws:SourceAccount"), Values: pulumi.StringArray{pulumi.String(sourceAccount)}},
		}
	}
	trust := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{stmt},
	}, InvokeOptions(opts)...)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: trust.Json(),
		Description:      pulumi.String("Assumed by " + service),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating role %s: %w", name, err)
	}
	out := &Role{Role: role}
	if err := out.attach(ctx, name, policyArns, opts); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Role) attach(ctx *pulumi.Context, name string, policyArns []string, opts []pulumi.ResourceOption) error {
	for _, arn := range policyArns {
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-"+PolicyShortName(arn), &iam.RolePolicyAttachmentArgs{
			Role: r.Role.Name, PolicyArn: pulumi.String(arn),
		}, opts...)
		if err != nil {
			return fmt.Errorf("attaching %s to %s: %w", arn, name, err)
		}
		r.Attachments = append(r.Attachments, att)
	}
	return nil
}

// PolicyShortName is the last path element of an ARN, lower-cased, for
// resource names.
func PolicyShortName(arn string) string {
	return strings.ToLower(arn[strings.LastIndex(arn, "/")+1:])
}

// OIDC is a cluster's IAM OIDC provider: what IRSA roles trust.
type OIDC struct {
	// ProviderArn is the IAM OIDC provider's ARN.
	ProviderArn pulumi.StringInput
	// Issuer is the issuer URL without "https://", the prefix of the
	// condition keys.
	Issuer pulumi.StringInput
}

// IRSAArgs describe the IAM role one Kubernetes service account assumes.
type IRSAArgs struct {
	// Namespace and ServiceAccount name the only subject allowed to assume it.
	Namespace      string
	ServiceAccount string
	// PolicyArns are managed policies to attach.
	PolicyArns []string
	// Policy is an inline policy document (JSON), or nil.
	Policy pulumi.StringInput
	// Tags are the role's own tags beside the provider's default tags;
	// a role's tags are its sessions' principal tags, which policies can
	// condition on (aws:PrincipalTag/...).
	Tags map[string]string
}

// IRSASubject is the token subject of a service account.
func IRSASubject(namespace, serviceAccount string) string {
	return fmt.Sprintf("system:serviceaccount:%s:%s", namespace, serviceAccount)
}

// Role makes an IAM role that exactly one service account may assume through
// the cluster's OIDC provider: the token's audience must be STS and its
// subject the service account. This is the one place IRSA trust is written.
func (o OIDC) Role(ctx *pulumi.Context, name string, args IRSAArgs, opts ...pulumi.ResourceOption) (*Role, error) {
	subject := IRSASubject(args.Namespace, args.ServiceAccount)
	trust := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
			iam.GetPolicyDocumentStatementArgs{
				Actions: pulumi.StringArray{pulumi.String("sts:AssumeRoleWithWebIdentity")},
				Principals: iam.GetPolicyDocumentStatementPrincipalArray{
					iam.GetPolicyDocumentStatementPrincipalArgs{Type: pulumi.String("Federated"), Identifiers: pulumi.StringArray{o.ProviderArn}},
				},
				Conditions: iam.GetPolicyDocumentStatementConditionArray{
					iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String("StringEquals"), Variable: pulumi.Sprintf("%s:aud", o.Issuer), Values: pulumi.StringArray{pulumi.String(STSAudience)}},
					iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String("StringEquals"), Variable: pulumi.Sprintf("%s:sub", o.Issuer), Values: pulumi.StringArray{pulumi.String(subject)}},
				},
			},
		},
	}, InvokeOptions(opts)...)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: trust.Json(),
		Description:      pulumi.String("IRSA role of " + subject),
		Tags:             pulumi.ToStringMap(args.Tags),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating IRSA role %s: %w", name, err)
	}
	out := &Role{Role: role}
	if err := out.attach(ctx, name, args.PolicyArns, opts); err != nil {
		return nil, err
	}
	if args.Policy != nil {
		p, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.ID(), Policy: args.Policy}, opts...)
		if err != nil {
			return nil, fmt.Errorf("granting %s: %w", name, err)
		}
		out.Attachments = append(out.Attachments, p)
	}
	return out, nil
}
