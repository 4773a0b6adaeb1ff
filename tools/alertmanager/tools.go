//go:build tools

// Package tools records the binary this module builds, so that `go mod
// tidy` keeps its requirements. The Alertmanager server has a module of
// its own, apart from tools/prom: built in one graph with Prometheus
// v0.316.0, it would get that module's newer automemlimit, whose API it
// does not compile against.
package tools

import (
	_ "github.com/prometheus/alertmanager/cmd/alertmanager"
)
