//go:build tools

// Package tools records the binaries this module builds, so that `go mod
// tidy` keeps their requirements.
package tools

import (
	_ "github.com/prometheus/alertmanager/cmd/amtool"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
