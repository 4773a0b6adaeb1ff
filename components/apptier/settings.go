package apptier

import (
	"fmt"
	"sort"
	"strings"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/policy/rules"
)

// Settings are the backend's non-secret settings, typed so that a typo is a
// compile error and every default is visible in one place. Render turns them
// into the ConfigMap's environment variables; the stack's app.settings map
// overrides or extends them.
type Settings struct {
	NodeEnv        string
	Port           int
	MetricsPort    int
	LogLevel       string
	LogFormat      string
	PublicURL      string
	APIBaseURL     string
	WebSocketPath  string
	CorsOrigins    []string
	RateLimitRPS   int
	RateLimitBurst int
	// RequestTimeoutSeconds is the API's own request timeout: NGF 2.4
	// does not apply Gateway API route timeouts.
	RequestTimeoutSeconds int
	DBPoolMin             int
	DBPoolMax             int
	DatabaseName          string
	// DatabaseSSLMode is "require": the server refuses anything else.
	DatabaseSSLMode      string
	RedisTLS             bool
	SessionTTLSeconds    int
	CacheTTLSeconds      int
	AWSRegion            string
	UploadMaxBytes       int
	AIModel              string
	AIDailyBudgetUSD     int
	AIMonthlyBudgetUSD   int
	AIBudgetAlertPercent int
	Features             map[string]bool
	// No URLs of Prometheus, Grafana or Kibana: the backend never calls
	// them (people reach them by port-forward, docs/RUNBOOK.md), and its
	// NetworkPolicies do not let it (internal/flows forbids it).
}

// DefaultSettings derives the settings from the app's config, the
// database's name and pool, and the region.
func DefaultSettings(app config.AppConfig, db DatabaseSettings, region string) Settings {
	host := app.Hostnames[0]
	return Settings{
		NodeEnv:               "production",
		Port:                  BackendPort,
		MetricsPort:           MetricsPort,
		LogLevel:              "info",
		LogFormat:             "json",
		PublicURL:             "https://" + host,
		APIBaseURL:            "https://" + host + "/api",
		WebSocketPath:         app.WebSocketPath,
		CorsOrigins:           app.CorsOrigins,
		RateLimitRPS:          app.RateLimit.RequestsPerSecond,
		RateLimitBurst:        app.RateLimit.Burst,
		RequestTimeoutSeconds: app.RequestTimeoutSeconds,
		DBPoolMin:             db.Pool.Min,
		DBPoolMax:             db.Pool.Max,
		DatabaseName:          db.Name,
		DatabaseSSLMode:       "require",
		RedisTLS:              true,
		SessionTTLSeconds:     7 * 24 * 3600,
		CacheTTLSeconds:       300,
		AWSRegion:             region,
		UploadMaxBytes:        25 << 20,
		AIModel:               "gpt-4o-mini",
		AIDailyBudgetUSD:      100,
		AIMonthlyBudgetUSD:    2000,
		AIBudgetAlertPercent:  80,
		Features:              map[string]bool{"AI_TUTOR": true, "LIVE_CLASSES": true, "PAYMENTS": true, "FORUMS": true},
	}
}

// Render is the settings as environment variables, overrides applied last.
// It refuses any key that looks like a credential.
func (s Settings) Render(overrides map[string]string) (map[string]string, error) {
	env := map[string]string{
		"NODE_ENV":                s.NodeEnv,
		"PORT":                    fmt.Sprint(s.Port),
		"METRICS_PORT":            fmt.Sprint(s.MetricsPort),
		"LOG_LEVEL":               s.LogLevel,
		"LOG_FORMAT":              s.LogFormat,
		"TRUST_PROXY":             "true",
		"PUBLIC_URL":              s.PublicURL,
		"API_BASE_URL":            s.APIBaseURL,
		"WEBSOCKET_PATH":          s.WebSocketPath,
		"CORS_ORIGINS":            strings.Join(s.CorsOrigins, ","),
		"RATE_LIMIT_RPS":          fmt.Sprint(s.RateLimitRPS),
		"RATE_LIMIT_BURST":        fmt.Sprint(s.RateLimitBurst),
		"REQUEST_TIMEOUT_SECONDS": fmt.Sprint(s.RequestTimeoutSeconds),
		"DB_POOL_MIN":             fmt.Sprint(s.DBPoolMin),
		"DB_POOL_MAX":             fmt.Sprint(s.DBPoolMax),
		"DATABASE_NAME":           s.DatabaseName,
		"DATABASE_SSL_MODE":       s.DatabaseSSLMode,
		"REDIS_TLS":               fmt.Sprint(s.RedisTLS),
		"SESSION_TTL_SECONDS":     fmt.Sprint(s.SessionTTLSeconds),
		"CACHE_TTL_SECONDS":       fmt.Sprint(s.CacheTTLSeconds),
		"AWS_REGION":              s.AWSRegion,
		"UPLOAD_MAX_BYTES":        fmt.Sprint(s.UploadMaxBytes),
		"AI_MODEL":                s.AIModel,
		"AI_DAILY_BUDGET_USD":     fmt.Sprint(s.AIDailyBudgetUSD),
		"AI_MONTHLY_BUDGET_USD":   fmt.Sprint(s.AIMonthlyBudgetUSD),
		"AI_BUDGET_ALERT_PERCENT": fmt.Sprint(s.AIBudgetAlertPercent),
	}
	for name, on := range s.Features {
		env["FEATURE_"+name] = fmt.Sprint(on)
	}
	for k, v := range overrides {
		env[k] = v
	}
	var bad []string
	for k := range env {
		if rules.SecretLikeKey(k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("ConfigMap keys %v look like credentials; put them in secret stack config, which lands in the app's Secret", bad)
	}
	return env, nil
}
