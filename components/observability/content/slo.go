package content

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/infra/config"
)

// The SLO rules are generated rather than templated: each objective needs
// the same recordings over seven windows and the same four burn-rate
// pairs, and a loop says that once. The method is the SRE workbook's
// (chapter 5, "Alerting on SLOs", its table 5-8): over a 30-day budget, a
// page when the budget burns 14.4 times too fast over 1 hour (2% of it
// gone) or 6 times over 6 hours (5%), a ticket at 3 times over a day
// (10%) or once over 3 days; each long window is confirmed by a short
// one (a twelfth of it), so that the alert resets soon after the burn
// stops.

// sloWindows are the windows the ratios are recorded over.
var sloWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// burnRate is one multi-window condition: both windows' ratio above
// factor times the budget.
type burnRate struct {
	long, short string
	factor      float64
	// spent is the share of the 30-day budget the long window burns.
	spent string
}

// pageBurns and ticketBurns are the workbook's pairs.
var (
	pageBurns   = []burnRate{{"1h", "5m", 14.4, "2%"}, {"6h", "30m", 6, "5%"}}
	ticketBurns = []burnRate{{"1d", "2h", 3, "10%"}, {"3d", "6h", 1, "10%"}}
)

// SLOWindowDays is the budget's window: the objectives hold over 30 days.
const SLOWindowDays = 30

// sli is one objective: the share of bad events over each window.
type sli struct {
	name      string // slo:backend_<name>:ratio_rate<window>
	alert     string
	objective float64
	what      string // bad events, in words
	bad       func(window string) string
	total     func(window string) string
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type group struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

// num writes a threshold as PromQL reads it, without float noise
// (14.4*0.001 is 0.014400000000000001).
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e9)/1e9, 'g', -1, 64)
}

// SLOMetric names a recording of the SLO rules.
func SLOMetric(kind, window string) string { return "slo:backend_" + kind + ":" + window }

func sloRules(s config.SLOConfig, ns string) ([]byte, error) {
	requests := func(extra string) func(string) string {
		return func(w string) string {
			return fmt.Sprintf(`sum by (namespace) (rate(http_server_request_duration_seconds_count{namespace=%q, job="backend"%s}[%s]))`, ns, extra, w)
		}
	}
	fast := func(w string) string {
		return fmt.Sprintf(`sum by (namespace) (rate(http_server_request_duration_seconds_bucket{namespace=%q, job="backend", http_route!~%s, le=%q}[%s]))`,
			ns, "`"+s.LatencyExcludedRoutes+"`", leValue(s.LatencySeconds), w)
	}
	latencyTotal := requests(", http_route!~`" + s.LatencyExcludedRoutes + "`")
	slis := []sli{
		{
			name: "errors", alert: "BackendErrorBudgetBurn", objective: s.Availability,
			what:  "backend requests answered 5xx",
			bad:   requests(`, http_response_status_code=~"5.."`),
			total: requests(""),
		},
		{
			name: "slow", alert: "BackendLatencyBudgetBurn", objective: s.LatencyObjective,
			what: "backend requests slower than " + num(s.LatencySeconds) + " s",
			bad: func(w string) string {
				return latencyTotal(w) + "\n  -\n" + fast(w)
			},
			total: latencyTotal,
		},
	}

	recordings := group{Name: "scrolluniversity-slo-recordings"}
	for _, w := range sloWindows {
		recordings.Rules = append(recordings.Rules, rule{Record: SLOMetric("requests", "rate"+w), Expr: requests("")(w)})
	}
	for _, x := range slis {
		for _, w := range sloWindows {
			// No bad series yet (no 5xx since the pods started) is a ratio
			// of 0, not a missing one: "or" fills it from the total.
			recordings.Rules = append(recordings.Rules, rule{
				Record: SLOMetric(x.name, "ratio_rate"+w),
				Expr:   fmt.Sprintf("(\n  %s\n  or on (namespace) 0 * %s\n)\n/\n%s", indent(x.bad(w)), x.total(w), x.total(w)),
			})
		}
		// The budget used over the whole window, for the dashboard: the
		// mean of the 5-minute ratios (unweighted by traffic, which a
		// 30-day rate over the raw histogram would cost far more to get).
		recordings.Rules = append(recordings.Rules,
			rule{
				Record: SLOMetric(x.name, "ratio_rate30d"),
				Expr:   fmt.Sprintf("avg_over_time(%s[%dd])", SLOMetric(x.name, "ratio_rate5m"), SLOWindowDays),
			},
			rule{
				Record: SLOMetric(x.name, "budget_remaining"),
				Expr:   fmt.Sprintf("1 - %s / %s", SLOMetric(x.name, "ratio_rate30d"), num(1-x.objective)),
			},
			rule{Record: SLOMetric(x.name, "objective"), Expr: fmt.Sprintf("vector(%s)", num(x.objective))},
		)
	}

	alerts := group{Name: "scrolluniversity-slo"}
	for _, x := range slis {
		budget := 1 - x.objective
		for _, tier := range []struct {
			severity, forTime, kind string
			burns                   []burnRate
		}{
			{"critical", "2m", "page", pageBurns},
			{"warning", "15m", "ticket", ticketBurns},
		} {
			var conds, words []string
			for _, b := range tier.burns {
				conds = append(conds, fmt.Sprintf("(\n  %s > %s\n  and on (namespace) %s > %s\n  and on (namespace) %s > %s\n)",
					SLOMetric(x.name, "ratio_rate"+b.long), num(b.factor*budget),
					SLOMetric(x.name, "ratio_rate"+b.short), num(b.factor*budget),
					SLOMetric("requests", "rate"+b.long), num(s.MinRequestsPerSecond)))
				words = append(words, fmt.Sprintf("%s of the budget in %s (%s times its rate)", b.spent, b.long, num(b.factor)))
			}
			alerts.Rules = append(alerts.Rules, rule{
				Alert: x.alert, Expr: strings.Join(conds, "\nor\n"), For: tier.forTime,
				Labels: map[string]string{"severity": tier.severity, "slo": x.name},
				Annotations: map[string]string{
					"summary": fmt.Sprintf("The backend spends its %s error budget too fast (%s)", percent(x.objective), tier.kind),
					"description": fmt.Sprintf("{{ $value | humanizePercentage }} of %s in {{ $labels.namespace }}: the objective allows %s over %d days, and this pace spends %s, confirmed over the short window.",
						x.what, percent(budget), SLOWindowDays, strings.Join(words, " or ")),
					"runbook_url": RunbookURL + "#" + RunbookAnchor(x.alert),
				},
			})
		}
	}

	// Each route that matters on its own: a route that is a small share
	// of the traffic can fail entirely and leave the service's ratio
	// under its lines.
	routes := group{Name: "scrolluniversity-routes"}
	names := make([]string, 0, len(s.Routes))
	for n := range s.Routes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		route := ", http_route=~`" + s.Routes[n] + "`"
		labels := map[string]string{"route": n}
		total := requests(route)("5m")
		routes.Rules = append(routes.Rules,
			rule{Record: SLOMetric("route_requests", "rate5m"), Expr: total, Labels: labels},
			rule{
				Record: SLOMetric("route_errors", "ratio_rate5m"), Labels: labels,
				Expr: fmt.Sprintf("(\n  %s\n  or on (namespace) 0 * %s\n)\n/\n%s", requests(route+`, http_response_status_code=~"5.."`)("5m"), total, total),
			})
	}
	routes.Rules = append(routes.Rules, rule{
		Alert: "BackendRouteFailing",
		Expr: fmt.Sprintf("%s > %s\nand on (namespace, route)\n%s > %s",
			SLOMetric("route_errors", "ratio_rate5m"), num(s.RouteErrorRatio), SLOMetric("route_requests", "rate5m"), num(s.RouteMinRequestsPerSecond)),
		For:    "5m",
		Labels: map[string]string{"severity": "critical"},
		Annotations: map[string]string{
			"summary":     "Route {{ $labels.route }} fails {{ $value | humanizePercentage }} of its requests",
			"description": fmt.Sprintf("More than %s of the {{ $labels.route }} requests in {{ $labels.namespace }} answered 5xx for 5 minutes (with at least %s requests a second): that path of the product is down, whatever the service-wide ratio says.", percent(s.RouteErrorRatio), num(s.RouteMinRequestsPerSecond)),
			"runbook_url": RunbookURL + "#" + RunbookAnchor("BackendRouteFailing"),
		},
	})

	out, err := yaml.Marshal(map[string]any{"groups": []group{recordings, alerts, routes}})
	if err != nil {
		return nil, err
	}
	header := "# Generated by content.sloRules (slo.go) from observability.slo: the\n# backend's objectives, their recordings and burn-rate alerts.\n"
	return append([]byte(header), out...), nil
}

// leValue is a bucket boundary as Prometheus 3 stores the le label of a
// classic histogram: integers with ".0", others in shortest form.
func leValue(f float64) string {
	if f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

// percent writes a share as a percentage without float noise (the rule
// templates' percent too).
func percent(f float64) string { return strconv.FormatFloat(math.Round(f*1e6)/1e4, 'f', -1, 64) + "%" }
