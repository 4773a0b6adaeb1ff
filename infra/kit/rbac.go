package kit

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Rule is one RBAC rule: verbs on resources of API groups ("" is core).
type Rule struct {
	Groups, Resources, Verbs []string
}

// Grant is a set of rules bound to one service account: a Role and
// RoleBinding in Namespace, or a ClusterRole and ClusterRoleBinding when
// Namespace is "". Both objects take Name and Labels.
type Grant struct {
	Name, Namespace string
	Labels          map[string]string
	Rules           []Rule
	// ServiceAccount and ServiceAccountNamespace name the subject.
	ServiceAccount, ServiceAccountNamespace string
}

// NewGrant creates the role and its binding and returns both.
func NewGrant(ctx *pulumi.Context, g Grant, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(g.Name), Labels: pulumi.ToStringMap(g.Labels)}
	var rules rbacv1.PolicyRuleArray
	for _, r := range g.Rules {
		rules = append(rules, rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray(r.Groups), Resources: pulumi.ToStringArray(r.Resources), Verbs: pulumi.ToStringArray(r.Verbs),
		})
	}
	subjects := rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(g.ServiceAccount), Namespace: pulumi.String(g.ServiceAccountNamespace)}}
	if g.Namespace != "" {
		meta.Namespace = pulumi.String(g.Namespace)
		role, err := rbacv1.NewRole(ctx, g.Name, &rbacv1.RoleArgs{Metadata: meta, Rules: rules}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating Role %s/%s: %w", g.Namespace, g.Name, err)
		}
		binding, err := rbacv1.NewRoleBinding(ctx, g.Name, &rbacv1.RoleBindingArgs{
			Metadata: meta,
			RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem()},
			Subjects: subjects,
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("binding Role %s/%s: %w", g.Namespace, g.Name, err)
		}
		return []pulumi.Resource{role, binding}, nil
	}
	role, err := rbacv1.NewClusterRole(ctx, g.Name, &rbacv1.ClusterRoleArgs{Metadata: meta, Rules: rules}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating ClusterRole %s: %w", g.Name, err)
	}
	binding, err := rbacv1.NewClusterRoleBinding(ctx, g.Name, &rbacv1.ClusterRoleBindingArgs{
		Metadata: meta,
		RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: role.Metadata.Name().Elem()},
		Subjects: subjects,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("binding ClusterRole %s: %w", g.Name, err)
	}
	return []pulumi.Resource{role, binding}, nil
}
