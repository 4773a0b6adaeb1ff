package content

import (
	"gopkg.in/yaml.v3"
)

// ProbeJob is the job label of the public hostnames' probes (the Probe's
// jobName): the alerts in edge.yaml select it.
const ProbeJob = "public-hostnames"

// ProbeModule is blackbox_exporter's module the Probe asks for.
const ProbeModule = "https_2xx"

// BlackboxConfig is blackbox_exporter's configuration: one HTTP module
// that follows redirects to a 2xx answer over TLS with a certificate the
// system trusts (fail_if_not_ssl), over IPv4 (the NLB's addresses), with
// a timeout under the Probe's scrape timeout.
func BlackboxConfig() (string, error) {
	out, err := yaml.Marshal(map[string]any{"modules": map[string]any{
		ProbeModule: map[string]any{
			"prober":  "http",
			"timeout": "10s",
			"http": map[string]any{
				"method":                "GET",
				"preferred_ip_protocol": "ip4",
				"ip_protocol_fallback":  false,
				"fail_if_not_ssl":       true,
				"follow_redirects":      true,
			},
		},
	}})
	return string(out), err
}
