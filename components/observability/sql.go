package observability

import (
	"embed"
	"strings"
)

// sqlFiles are the SQL the monitoring-user Job runs.
//
//go:embed sql/*.sql
var sqlFiles embed.FS

// dashboardConfigMap names a dashboard's ConfigMap.
func dashboardConfigMap(file string) string {
	return "dashboard-" + strings.TrimSuffix(file, ".json")
}
