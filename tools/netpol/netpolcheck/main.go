// Command netpolcheck answers, for each connection it is asked about,
// whether a set of NetworkPolicies allows it, with cyclonus's
// implementation of the NetworkPolicy semantics (pkg/matcher of
// github.com/mattfenwick/cyclonus v0.5.6) rather than one of our own.
//
//	netpolcheck < request.json > answers.json
//
// The request holds the policies (networking.k8s.io/v1 NetworkPolicy
// objects as they are applied) and the connections, each from a source to
// a destination peer on a port: a pod (its namespace, the namespace's
// labels and the pod's labels, and its IP), or an address outside the pod
// network (an IP only). The answer for each connection says, for egress
// at the source and ingress at the destination, whether it is allowed and
// which policies select the pod and allow it or do not. What the cluster's
// network plugin adds to these semantics (the EKS VPC CNI's translation of
// Service ClusterIPs, say) is the caller's to apply to the policies first.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Peer is one end of a connection.
type Peer struct {
	IP string `json:"ip"`
	// Namespace is empty for an address outside the pod network.
	Namespace       string            `json:"namespace,omitempty"`
	NamespaceLabels map[string]string `json:"namespaceLabels,omitempty"`
	PodLabels       map[string]string `json:"podLabels,omitempty"`
}

// Query is one connection.
type Query struct {
	Source      Peer   `json:"source"`
	Destination Peer   `json:"destination"`
	Port        int    `json:"port"`
	PortName    string `json:"portName,omitempty"`
	Protocol    string `json:"protocol"`
}

// Request is what netpolcheck reads.
type Request struct {
	Policies []networkingv1.NetworkPolicy `json:"policies"`
	Queries  []Query                      `json:"queries"`
}

// Direction is the verdict at one end: egress at the source, ingress at
// the destination.
type Direction struct {
	Allowed bool `json:"allowed"`
	// Selecting are the policies (namespace/name) that select the pod for
	// this direction; Allowing those of them that allow the connection.
	// No selecting policy means the pod is not isolated: allowed.
	Selecting []string `json:"selecting"`
	Allowing  []string `json:"allowing"`
}

// Answer is the verdict for one query.
type Answer struct {
	Egress  Direction `json:"egress"`
	Ingress Direction `json:"ingress"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "netpolcheck:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	var req Request
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	policies := make([]*networkingv1.NetworkPolicy, len(req.Policies))
	for i := range req.Policies {
		p := &req.Policies[i]
		defaultPolicyTypes(p)
		policies[i] = p
	}
	// The verdict comes from all policies together; each policy is also
	// judged alone, so that the answer names exactly the policies that
	// select the pod and those that allow the connection (cyclonus merges
	// policies with the same pod selector into one target).
	engine := matcher.BuildNetworkPolicies(false, policies)
	single := make([]*matcher.Policy, len(policies))
	for i, p := range policies {
		single[i] = matcher.BuildNetworkPolicies(false, []*networkingv1.NetworkPolicy{p})
	}
	answers := make([]Answer, 0, len(req.Queries))
	for _, q := range req.Queries {
		traffic := &matcher.Traffic{
			Source:           peer(q.Source),
			Destination:      peer(q.Destination),
			ResolvedPort:     q.Port,
			ResolvedPortName: q.PortName,
			Protocol:         corev1.Protocol(q.Protocol),
		}
		res := engine.IsTrafficAllowed(traffic)
		a := Answer{
			Egress:  Direction{Allowed: res.Egress.IsAllowed(), Selecting: []string{}, Allowing: []string{}},
			Ingress: Direction{Allowed: res.Ingress.IsAllowed(), Selecting: []string{}, Allowing: []string{}},
		}
		for i, p := range single {
			one := p.IsTrafficAllowed(traffic)
			name := policies[i].Namespace + "/" + policies[i].Name
			attribute(&a.Egress, one.Egress, name)
			attribute(&a.Ingress, one.Ingress, name)
		}
		answers = append(answers, a)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", " ")
	return enc.Encode(answers)
}

// defaultPolicyTypes applies the API server's defaulting of policyTypes
// (k8s.io/kubernetes pkg/apis/networking/v1 SetDefaults_NetworkPolicy):
// Ingress always, Egress when the policy has egress rules. Policies from
// charts often leave the field out; cyclonus needs it set.
func defaultPolicyTypes(p *networkingv1.NetworkPolicy) {
	if len(p.Spec.PolicyTypes) > 0 {
		return
	}
	p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(p.Spec.Egress) > 0 {
		p.Spec.PolicyTypes = append(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
	}
}

func peer(p Peer) *matcher.TrafficPeer {
	tp := &matcher.TrafficPeer{IP: p.IP}
	if p.Namespace != "" {
		tp.Internal = &matcher.InternalPeer{Namespace: p.Namespace, NamespaceLabels: p.NamespaceLabels, PodLabels: p.PodLabels}
	}
	return tp
}

// attribute records one policy's part in a direction's verdict.
func attribute(d *Direction, one *matcher.DirectionResult, name string) {
	if len(one.AllowingTargets)+len(one.DenyingTargets) == 0 {
		return
	}
	d.Selecting = append(d.Selecting, name)
	if len(one.AllowingTargets) > 0 {
		d.Allowing = append(d.Allowing, name)
	}
}
