//go:build tools

// Package tools records the binaries this module builds, so that `go mod
// tidy` keeps their requirements.
package tools

import _ "github.com/johannesboyne/gofakes3/cmd/gofakes3"
