// Package content is what the observability stack runs, as files and pure
// Go: the alert rules (rules/, Prometheus rule files with the stack's
// thresholds), Alertmanager's routing, the Grafana dashboards (dashboards/)
// and cloudwatch_exporter's configuration. Nothing here registers a
// resource, so its tests run Prometheus's own tools (promtool, amtool, the
// PromQL parser) against it without linking the Pulumi SDKs' providers.
package content
