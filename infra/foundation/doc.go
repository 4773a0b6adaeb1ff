// Package foundation builds what every component stands on: the VPC
// (Network) and the EKS cluster with its node groups, add-ons and the one
// Kubernetes provider (Cluster).
//
// It is its own package, not part of infra's wiring, for build time: the
// Go compiler re-instantiates the Pulumi SDK's generic output types in every
// package that touches the SDK's resource types, which makes a package with
// EC2 and EKS resources take about 4 s to compile. Kept apart, an edit to a
// component recompiles only the thin wiring in infra (about 0.5 s) before
// the whole-program test binary is linked. The component type tokens stay
// "scrolluniversity:infra:Network" and "scrolluniversity:infra:Cluster", so
// the move changes no URN of a deployed stack.
package foundation
