package rules

import (
	"fmt"
	"strings"
)

// Types of the Prometheus operator's custom resources and Helm releases.
const (
	typePrometheusRule = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	typeServiceMonitor = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
	typeService        = "kubernetes:core/v1:Service"
	typeHelmRelease    = "kubernetes:helm.sh/v3:Release"
)

// ServiceFromReleaseAnnotation on a ServiceMonitor names the Helm release
// ("<namespace>/<release>") that makes the Service it selects, which the
// policy pack cannot see: the release must be in the stack instead.
const ServiceFromReleaseAnnotation = "scrolluniversity.io/service-from-release"

// alertSeverities are the severities Alertmanager routes.
var alertSeverities = []string{"critical", "warning", "info", "none"}

// documentedAlerts: every alert rule of a PrometheusRule can be routed and
// acted on.
var documentedAlerts = ResourceRule{
	Policy{"prometheus-alerts-documented", "every alert rule has a severity Alertmanager routes and a summary, description and runbook_url", Mandatory, nil},
	func(r Resource, _ Config) []string {
		if r.Type != typePrometheusRule {
			return nil
		}
		var msgs []string
		for _, g := range list(Get(r.Props, "spec", "groups")) {
			for _, rule := range list(Get(g, "rules")) {
				alert := str(Get(rule, "alert"))
				if alert == "" {
					continue
				}
				where := fmt.Sprintf("PrometheusRule %s, group %s, alert %s", shortName(r), str(Get(g, "name")), alert)
				if sev := str(Get(rule, "labels", "severity")); !contains(alertSeverities, sev) {
					msgs = append(msgs, fmt.Sprintf("%s has severity %q; set labels.severity to one of %s", where, sev, strings.Join(alertSeverities, ", ")))
				}
				var missing []string
				for _, a := range []string{"summary", "description", "runbook_url"} {
					if str(Get(rule, "annotations", a)) == "" {
						missing = append(missing, a)
					}
				}
				if len(missing) > 0 {
					msgs = append(msgs, fmt.Sprintf("%s has no %s; annotate it so whoever is paged knows what to do", where, strings.Join(missing, ", ")))
				}
			}
		}
		return msgs
	},
}

// monitorsSelectServices: a ServiceMonitor that selects nothing scrapes
// nothing, silently, and its alerts can never fire.
var monitorsSelectServices = StackRule{
	Policy{"servicemonitor-selects-service", "every ServiceMonitor selects a Service the stack creates, on a port that Service names", Mandatory, nil},
	func(all []Resource, _ Config) []Finding {
		releases := map[string]bool{}
		for _, r := range all {
			if r.Type == typeHelmRelease {
				releases[str(r.Props["namespace"])+"/"+str(r.Props["name"])] = true
			}
		}
		var out []Finding
		for _, sm := range all {
			if sm.Type != typeServiceMonitor {
				continue
			}
			namespaces := strList(Get(sm.Props, "spec", "namespaceSelector", "matchNames"))
			if len(namespaces) == 0 {
				namespaces = []string{namespaceOf(sm)}
			}
			var ports []string
			for _, ep := range list(Get(sm.Props, "spec", "endpoints")) {
				ports = append(ports, str(Get(ep, "port")))
			}
			if release := str(Get(sm.Props, "metadata", "annotations", ServiceFromReleaseAnnotation)); release != "" {
				if !releases[release] {
					out = append(out, Finding{sm.URN, fmt.Sprintf("ServiceMonitor %s/%s says its Service comes from Helm release %s, which the stack does not install", namespaceOf(sm), nameOf(sm), release)})
				}
				continue
			}
			found := false
			for _, svc := range all {
				if svc.Type != typeService || !contains(namespaces, namespaceOf(svc)) || !selects(Get(sm.Props, "spec", "selector"), Get(svc.Props, "metadata", "labels")) {
					continue
				}
				var named []string
				for _, p := range list(Get(svc.Props, "spec", "ports")) {
					named = append(named, str(Get(p, "name")))
				}
				ok := true
				for _, p := range ports {
					ok = ok && contains(named, p)
				}
				found = found || ok
			}
			if !found {
				out = append(out, Finding{sm.URN, fmt.Sprintf("ServiceMonitor %s/%s selects no Service in %v with port %v; fix its selector or the Service's labels and port names", namespaceOf(sm), nameOf(sm), namespaces, ports)})
			}
		}
		return out
	},
}
