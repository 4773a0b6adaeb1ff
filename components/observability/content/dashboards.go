package content

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
)

const (
	// DashboardLabel marks the ConfigMaps Grafana's sidecar loads
	// (kube-prometheus-stack's grafana.sidecar.dashboards.label, value "1").
	DashboardLabel = "grafana_dashboard"
	// DataSourceUID is the Prometheus data source kube-prometheus-stack
	// provisions in Grafana (grafana.sidecar.datasources.uid); every
	// dashboard panel queries it.
	DataSourceUID = "prometheus"
)

// dashboardFiles are Grafana dashboards (JSON models) the sidecar loads
// from ConfigMaps labelled DashboardLabel.
//
//go:embed dashboards/*.json
var dashboardFiles embed.FS

// Dashboards are the dashboards' JSON by file name, each checked to parse
// and to carry a uid and title.
func Dashboards() (map[string]string, error) {
	names, err := fs.Glob(dashboardFiles, "dashboards/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range names {
		b, err := dashboardFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var d struct {
			UID   string `json:"uid"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("dashboard %s is not JSON: %w", name, err)
		}
		if d.UID == "" || d.Title == "" {
			return nil, fmt.Errorf("dashboard %s has no uid or title", name)
		}
		out[path.Base(name)] = string(b)
	}
	return out, nil
}
