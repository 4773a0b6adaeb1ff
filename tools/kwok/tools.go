//go:build tools

// Package tools records the binary this module builds, so that `go mod
// tidy` keeps its requirements. KWOK has a module of its own, apart from
// tools/kube: it pins its own client-go, and the two graphs stay apart.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
