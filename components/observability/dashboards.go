package observability

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
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

// dashboardConfigMap names a dashboard's ConfigMap.
func dashboardConfigMap(file string) string {
	return "dashboard-" + strings.TrimSuffix(file, ".json")
}

// sqlFiles are the SQL the monitoring-user Job runs.
//
//go:embed sql/*.sql
var sqlFiles embed.FS
