// Package workflows holds the tests of the GitHub workflows in
// .github/workflows: actionlint, and the properties the platform relies on
// (triggers, least-privilege permissions, actions pinned by commit,
// environments and one concurrency group per stack).
package workflows
