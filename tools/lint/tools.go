//go:build tools

// Package tools records the binaries this module builds, so that `go mod
// tidy` keeps their requirements.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
