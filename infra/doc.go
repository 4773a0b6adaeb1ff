// Package infra is the program: it reads the stack's config once, builds
// the foundation (network and cluster, package infra/foundation) and wires
// each component under components/ with what it needs from the others.
// main.go runs Program; the synthesizer and the tests call Build or Deploy.
//
// Keep this package to the wiring. Resource-heavy code belongs in a
// component or in infra/foundation: every package that imports infra is
// recompiled when it changes, and the whole-program test binary waits on it.
package infra
