package tests

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/scrolluniversity/platform/components/backups"
	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

const (
	typeDeployment = "kubernetes:apps/v1:Deployment"
	typeHPA        = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	typePDB        = "kubernetes:policy/v1:PodDisruptionBudget"
	typeService    = "kubernetes:core/v1:Service"
	typeConfigMap  = "kubernetes:core/v1:ConfigMap"
	typeSecret     = "kubernetes:core/v1:Secret"
	typeJob        = "kubernetes:batch/v1:Job"
	typeNetPol     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typeHTTPRoute  = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
	typeGateway    = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
	typeRelease    = "kubernetes:helm.sh/v3:Release"
	typeSA         = "kubernetes:core/v1:ServiceAccount"
)

// scalingOf is each workload's HPA bounds as the stack file gives them.
func scalingOf(t *testing.T, cfg *config.Config) map[string][2]int64 {
	t.Helper()
	out := map[string][2]int64{}
	for name, w := range map[string]config.WorkloadConfig{"backend": cfg.App.Backend, "frontend": cfg.App.Frontend} {
		out[name] = [2]int64{int64(w.MinReplicas), int64(w.MaxReplicas)}
	}
	return out
}

func TestDeploymentsReplicasAndHPAs(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		for component, bounds := range scalingOf(t, cfg) {
			d := one(t, res, typeDeployment, component).Plain()
			if got := path(d, "spec", "replicas"); got != bounds[0] {
				t.Errorf("%s replicas: want the HPA minimum %d, got %v", component, bounds[0], got)
			}
			h := one(t, res, typeHPA, component).Plain()
			spec := h["spec"]
			if path(spec, "minReplicas") != bounds[0] || path(spec, "maxReplicas") != bounds[1] {
				t.Errorf("%s HPA: want %d-%d, got %v-%v", component, bounds[0], bounds[1], path(spec, "minReplicas"), path(spec, "maxReplicas"))
			}
			if path(spec, "scaleTargetRef", "kind") != "Deployment" || path(spec, "scaleTargetRef", "name") != component {
				t.Errorf("%s HPA targets %v", component, path(spec, "scaleTargetRef"))
			}
			var metrics []string
			for _, m := range path(spec, "metrics").([]any) {
				metrics = append(metrics, path(m, "resource", "name").(string))
			}
			if !slices.Equal(metrics, []string{"cpu", "memory"}) {
				t.Errorf("%s HPA metrics: want cpu and memory, got %v", component, metrics)
			}
			if path(spec, "behavior", "scaleDown", "stabilizationWindowSeconds") == nil {
				t.Errorf("%s HPA has no scale-down stabilization", component)
			}
		}
	})
}

func podSpecOf(t *testing.T, res *synth.Result, typ, name string) map[string]any {
	t.Helper()
	return path(one(t, res, typ, name).Plain(), "spec", "template", "spec").(map[string]any)
}

func TestDeploymentsAreHardenedAndSpread(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		want := map[string]struct {
			port                 int64
			startup, live, ready string
			resources            config.ResourcesConfig
			image                string
			initContainers       int
		}{
			"backend": {3000, "/api/health/live", "/api/health/live", "/api/health/ready", cfg.App.Backend.Resources, "ghcr.io/scrolluniversity/backend:" + cfg.App.Backend.ImageTag, 1},
			// The frontend's liveness is a TCP check ("" here): a failing
			// /healthz takes it out of rotation, never restarts it.
			"frontend": {8080, "/healthz", "", "/healthz", cfg.App.Frontend.Resources, "ghcr.io/scrolluniversity/frontend:" + cfg.App.Frontend.ImageTag, 0},
		}
		for component, w := range want {
			d := one(t, res, typeDeployment, component).Plain()
			if path(d, "spec", "strategy", "rollingUpdate", "maxUnavailable") != int64(0) {
				t.Errorf("%s: want maxUnavailable 0, got %v", component, path(d, "spec", "strategy"))
			}
			pod := podSpecOf(t, res, typeDeployment, component)
			if path(pod, "securityContext", "runAsNonRoot") != true || path(pod, "securityContext", "seccompProfile", "type") != "RuntimeDefault" || pod["automountServiceAccountToken"] != false {
				t.Errorf("%s pod security: got %v, automount %v", component, pod["securityContext"], pod["automountServiceAccountToken"])
			}
			term := path(pod, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution").([]any)[0]
			if path(term, "topologyKey") != "kubernetes.io/hostname" || path(term, "labelSelector", "matchLabels", "app.kubernetes.io/name") != component {
				t.Errorf("%s anti-affinity: got %v", component, term)
			}
			spread := pod["topologySpreadConstraints"].([]any)[0]
			if path(spread, "topologyKey") != "topology.kubernetes.io/zone" || path(spread, "maxSkew") != int64(1) || path(spread, "nodeTaintsPolicy") != "Honor" {
				t.Errorf("%s zone spread: got %v", component, spread)
			}
			if inits, _ := pod["initContainers"].([]any); len(inits) != w.initContainers {
				t.Errorf("%s init containers: want %d, got %v", component, w.initContainers, pod["initContainers"])
			}
			c := pod["containers"].([]any)[0]
			if path(c, "image") != w.image {
				t.Errorf("%s image: want %s, got %v", component, w.image, path(c, "image"))
			}
			ports := map[string]int64{}
			for _, p := range path(c, "ports").([]any) {
				ports[path(p, "name").(string)] = path(p, "containerPort").(int64)
			}
			if ports["http"] != w.port {
				t.Errorf("%s http port: want %d, got %v", component, w.port, ports)
			}
			for probe, p := range map[string]string{"startupProbe": w.startup, "livenessProbe": w.live, "readinessProbe": w.ready} {
				if p == "" {
					if path(c, probe, "tcpSocket", "port") != "http" || path(c, probe, "httpGet") != nil {
						t.Errorf("%s %s: want a TCP check on http, got %v", component, probe, path(c, probe))
					}
					continue
				}
				if path(c, probe, "httpGet", "path") != p || path(c, probe, "httpGet", "port") != "http" {
					t.Errorf("%s %s: want GET %s on http, got %v", component, probe, p, path(c, probe))
				}
			}
			sc := path(c, "securityContext")
			if path(sc, "runAsNonRoot") != true || path(sc, "readOnlyRootFilesystem") != true || path(sc, "allowPrivilegeEscalation") != false || !slices.Equal(strs(path(sc, "capabilities", "drop")), []string{"ALL"}) {
				t.Errorf("%s container security: got %v", component, sc)
			}
			for k, v := range map[string]string{
				"requests/cpu": w.resources.RequestsCpu, "requests/memory": w.resources.RequestsMemory, "limits/cpu": w.resources.LimitsCpu, "limits/memory": w.resources.LimitsMemory,
				"requests/ephemeral-storage": w.resources.RequestsEphemeralStorage, "limits/ephemeral-storage": w.resources.LimitsEphemeralStorage,
			} {
				parts := strings.Split(k, "/")
				if path(c, "resources", parts[0], parts[1]) != v {
					t.Errorf("%s resources %s: want %s, got %v", component, k, v, path(c, "resources", parts[0], parts[1]))
				}
			}
			grace := pod["terminationGracePeriodSeconds"].(int64)
			if preStop := path(c, "lifecycle", "preStop", "sleep", "seconds"); preStop == nil || preStop.(int64) >= grace {
				t.Errorf("%s: preStop %v must be shorter than the grace period %d", component, preStop, grace)
			}
		}
		backend := podSpecOf(t, res, typeDeployment, "backend")
		if anns := path(one(t, res, typeDeployment, "backend").Plain(), "spec", "template", "metadata", "annotations"); path(anns, "prometheus.io/scrape") != "true" || path(anns, "prometheus.io/port") != "9464" {
			t.Errorf("backend scrape annotations: got %v", anns)
		}
		wait := backend["initContainers"].([]any)[0]
		if cmd := strings.Join(strs(path(wait, "command")), " "); !strings.Contains(cmd, "DATABASE_HOST") || !strings.Contains(cmd, "REDIS_HOST") {
			t.Errorf("init container does not wait for PostgreSQL and Redis: %s", cmd)
		}
	})
}

func TestSelectorsAndRoutesPointAtThingsThatExist(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		podLabels := map[string]map[string]any{}
		for _, d := range res.ByType(typeDeployment) {
			podLabels[d.Name] = path(d.Plain(), "spec", "template", "metadata", "labels").(map[string]any)
		}
		matches := func(selector map[string]any) string {
			for dep, labels := range podLabels {
				ok := len(selector) > 0
				for k, v := range selector {
					if labels[k] != v {
						ok = false
					}
				}
				if ok {
					return dep
				}
			}
			return ""
		}
		for _, p := range res.ByType(typePDB) {
			if path(p.Plain(), "metadata", "namespace") != cfg.App.Namespace {
				continue // the gateway's PDBs select chart-made pods: TestEdge
			}
			sel := path(p.Plain(), "spec", "selector", "matchLabels").(map[string]any)
			if matches(sel) != p.Name {
				t.Errorf("PDB %s selects %v, which matches Deployment %q", p.Name, sel, matches(sel))
			}
			if path(p.Plain(), "spec", "maxUnavailable") != int64(1) {
				t.Errorf("PDB %s: want maxUnavailable 1", p.Name)
			}
		}
		servicePorts := map[string][]int64{}
		for _, s := range res.ByType(typeService) {
			sel := path(s.Plain(), "spec", "selector").(map[string]any)
			if _, eck := sel["logstash.k8s.elastic.co/name"]; eck {
				continue // pods ECK makes for the Logstash resource: TestLogging
			}
			if matches(sel) == "" {
				t.Errorf("Service %s selects %v: no pods", s.Name, sel)
			}
			for _, p := range path(s.Plain(), "spec", "ports").([]any) {
				servicePorts[s.Name] = append(servicePorts[s.Name], path(p, "port").(int64))
			}
		}
		refs := 0
		for _, r := range res.ByType(typeHTTPRoute) {
			for _, rule := range path(r.Plain(), "spec", "rules").([]any) {
				refsOfRule, _ := path(rule, "backendRefs").([]any)
				for _, b := range refsOfRule {
					refs++
					svc, port := path(b, "name").(string), path(b, "port").(int64)
					if path(r.Plain(), "metadata", "namespace") != cfg.App.Namespace || !slices.Contains(servicePorts[svc], port) {
						t.Errorf("route %s sends to %s:%d, which is not a Service port in %s (%v)", r.Name, svc, port, cfg.App.Namespace, servicePorts)
					}
				}
			}
		}
		if refs != 3 {
			t.Errorf("want 3 backend references (/api, WebSocket, /), got %d", refs)
		}
	})
}

func TestMigrationJobPerRelease(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		jobs := migrationJobs(res)
		if len(jobs) != 1 {
			t.Fatalf("want one migration Job, got %d", len(jobs))
		}
		job := jobs[0]
		wantName := "backend-migrate-" + strings.ReplaceAll(cfg.App.Backend.ImageTag, ".", "-")
		if path(job.Plain(), "metadata", "name") != wantName {
			t.Errorf("job name: want %s, got %v", wantName, path(job.Plain(), "metadata", "name"))
		}
		c := path(job.Plain(), "spec", "template", "spec", "containers").([]any)[0]
		if strings.Join(strs(path(c, "command")), " ") != strings.Join(cfg.App.MigrateCommand, " ") || path(c, "image") != "ghcr.io/scrolluniversity/backend:"+cfg.App.Backend.ImageTag {
			t.Errorf("job runs %v in %v", path(c, "command"), path(c, "image"))
		}
		if len(path(c, "envFrom").([]any)) != 2 {
			t.Errorf("job does not get the backend's environment: %v", path(c, "envFrom"))
		}
		backend := one(t, res, typeDeployment, "backend")
		if !slices.Contains(backend.Dependencies, job.URN) {
			t.Errorf("the backend Deployment does not wait for the migration Job")
		}
	})

	next := withChanges(t, change{"app", "backend.imageTag", "1.1.0"})
	res, err := synth.Run(next, infra.Deploy)
	if err != nil {
		t.Fatal(err)
	}
	jobs := migrationJobs(res)
	if len(jobs) != 1 || path(jobs[0].Plain(), "metadata", "name") != "backend-migrate-1-1-0" || jobs[0].Name != "backend-migrate-1-1-0" {
		t.Errorf("a new release must get a new migration Job, got %v", jobs)
	}
}

func TestConfigMapAndSecret(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		secret := one(t, res, typeSecret, "backend-secrets")
		if !secret.IsSecretInput("stringData") {
			t.Errorf("Secret data is not a Pulumi secret")
		}
		data := secret.Plain()["stringData"].(map[string]any)
		want := []string{"DATABASE_URL", "JWT_SECRET", "OPENAI_API_KEY", "REDIS_URL", "SENTRY_DSN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
		if got := slices.Sorted(maps.Keys(data)); !slices.Equal(got, want) {
			t.Errorf("Secret keys: want %v, got %v", want, got)
		}
		secretValues := map[string]bool{}
		for _, v := range data {
			secretValues[v.(string)] = true
		}
		for _, cm := range res.ByType(typeConfigMap) {
			for k, v := range cm.Plain()["data"].(map[string]any) {
				if rules.SecretLikeKey(k) {
					t.Errorf("ConfigMap %s has credential-looking key %s", cm.Name, k)
				}
				s := v.(string)
				if secretValues[s] || strings.Contains(s, synth.MockPassword) || strings.Contains(s, "synth-stand-in") {
					t.Errorf("ConfigMap %s key %s holds a secret value", cm.Name, k)
				}
			}
		}
		cm := one(t, res, typeConfigMap, "backend-config").Plain()["data"].(map[string]any)
		for k, v := range map[string]string{"DB_POOL_MIN": "10", "DB_POOL_MAX": "50", "NODE_ENV": "production", "CORS_ORIGINS": strings.Join(cfg.App.CorsOrigins, ","), "PORT": "3000"} {
			if cm[k] != v {
				t.Errorf("ConfigMap %s: want %q, got %v", k, v, cm[k])
			}
		}
		if len(cm) < 35 {
			t.Errorf("ConfigMap has %d settings; want the full typed set", len(cm))
		}
		for k, v := range cfg.App.Settings {
			if cm[k] != v {
				t.Errorf("stack override %s=%s not applied: %v", k, v, cm[k])
			}
		}
	})
}

func TestServiceAccountsAndRBAC(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		backend := one(t, res, typeSA, cfg.App.BackendServiceAccount).Plain()
		role := one(t, res, typeRole, cfg.Cluster.Name+"-backend")
		if path(backend, "metadata", "annotations", "eks.amazonaws.com/role-arn") != role.State["arn"].StringValue() || backend["automountServiceAccountToken"] != false {
			t.Errorf("backend service account: want the IRSA role and no token, got %v", backend)
		}
		if fe := one(t, res, typeSA, "frontend").Plain(); fe["automountServiceAccountToken"] != false || path(fe, "metadata", "annotations") != nil {
			t.Errorf("frontend service account: want no token and no role, got %v", fe)
		}
		for _, r := range res.Resources {
			if strings.Contains(r.Type, "rbac.authorization.k8s.io") && path(r.Plain(), "metadata", "namespace") == cfg.App.Namespace {
				t.Errorf("the app's namespace binds Kubernetes API rights: %s %s", r.Type, r.Name)
			}
		}
		ns := one(t, res, "kubernetes:core/v1:Namespace", cfg.App.Namespace).Plain()
		if path(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce") != "restricted" {
			t.Errorf("namespace does not enforce the restricted Pod Security Standard: %v", path(ns, "metadata", "labels"))
		}
	})
}

func TestQuotaHoldsTheHPAMaximums(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		hard := path(one(t, res, "kubernetes:core/v1:ResourceQuota", cfg.App.Namespace).Plain(), "spec", "hard").(map[string]any)
		reqCPU, reqMem, limCPU, limMem, pods := cfg.App.QuotaNeed()
		for key, need := range map[string]resource.Quantity{"requests.cpu": reqCPU, "requests.memory": reqMem, "limits.cpu": limCPU, "limits.memory": limMem} {
			have := resource.MustParse(hard[key].(string))
			if have.Cmp(need) < 0 {
				t.Errorf("quota %s %s < %s needed", key, have.String(), need.String())
			}
		}
		if q := resource.MustParse(hard["pods"].(string)); q.Value() < int64(pods) {
			t.Errorf("quota pods %v < %d needed", hard["pods"], pods)
		}
		if hard["services.loadbalancers"] != "0" {
			t.Errorf("the app namespace may create load balancers")
		}
		// The need itself, counted here from the stack file: each
		// workload at its HPA maximum plus a rollout's 25% surge (rounded
		// up), the migration Job, and the backup pods.
		surge := func(n int) int { return (n + 3) / 4 }
		b, f := cfg.App.Backend.MaxReplicas, cfg.App.Frontend.MaxReplicas
		if want := b + surge(b) + 1 + f + surge(f) + config.BackupPods; pods != want {
			t.Errorf("pod need: want %d (backend %d+%d surge+1 job, frontend %d+%d surge, %d backup pods), got %d", want, b, surge(b), f, surge(f), config.BackupPods, pods)
		}
	})
}

// The flows each NetworkPolicy admits, spelled out.
func TestNetworkPoliciesAdmitExactlyTheListedFlows(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		got := map[string]string{}
		for _, p := range res.ByType(typeNetPol) {
			if path(p.Plain(), "metadata", "namespace") != cfg.App.Namespace {
				continue // the edge's namespaces: TestEdgeNamespaces
			}
			spec := path(p.Plain(), "spec")
			var flows []string
			for _, dir := range []string{"ingress", "egress"} {
				rulesList, _ := path(spec, dir).([]any)
				for _, r := range rulesList {
					peers, _ := path(r, map[string]string{"ingress": "from", "egress": "to"}[dir]).([]any)
					var who []string
					for _, peer := range peers {
						switch {
						case path(peer, "ipBlock") != nil:
							block := path(peer, "ipBlock", "cidr").(string)
							if except := strs(path(peer, "ipBlock", "except")); len(except) > 0 {
								block += " except " + strings.Join(except, ",")
							}
							who = append(who, block)
						case path(peer, "podSelector") != nil:
							who = append(who, path(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name").(string)+"/"+path(peer, "podSelector", "matchLabels", "k8s-app").(string))
						default:
							who = append(who, path(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name").(string))
						}
					}
					var ports []string
					for _, port := range path(r, "ports").([]any) {
						ports = append(ports, path(port, "protocol").(string)+"/"+itoa(path(port, "port").(int64)))
					}
					flows = append(flows, dir+" "+strings.Join(who, ",")+" "+strings.Join(ports, ","))
				}
			}
			sel, _ := path(spec, "podSelector", "matchLabels").(map[string]any)
			target := "all"
			if n, ok := sel["app.kubernetes.io/name"]; ok {
				target = n.(string)
			} else if sel[backups.BackupLabel] == "true" {
				target = "backups"
			} else if len(sel) > 0 {
				target = "db-clients"
			}
			got[path(p.Plain(), "metadata", "name").(string)] = target + " [" + strings.Join(strs(path(spec, "policyTypes")), ",") + "] " + strings.Join(flows, "; ")
		}
		plan, _ := config.PlanSubnets(cfg.Network.VpcCidr, cfg.Network.AvailabilityZones)
		var iso []string
		for _, z := range plan {
			iso = append(iso, z.Isolated.String())
		}
		// The internet is everything outside the VPC and the Service
		// range; the API server is the kubernetes Service's ClusterIP.
		internet := "0.0.0.0/0 except " + cfg.Network.VpcCidr + "," + cfg.Cluster.ServiceCidr
		apiServer := netip.MustParsePrefix(cfg.Cluster.ServiceCidr).Addr().Next().String() + "/32"
		want := map[string]string{
			"backups-to-aws":                  "backups [Egress] egress " + internet + " TCP/443",
			"app-backup-to-api-server":        "app-backup [Egress] egress " + apiServer + " TCP/443",
			"default-deny":                    "all [Ingress,Egress] ",
			"allow-dns":                       "all [Egress] egress kube-system/kube-dns UDP/53,TCP/53",
			"frontend-from-gateway":           "frontend [Ingress] ingress nginx-gateway TCP/8080",
			"backend-from-gateway":            "backend [Ingress] ingress nginx-gateway TCP/3000",
			"backend-metrics-from-prometheus": "backend [Ingress] ingress monitoring TCP/9464",
			// RDS and ElastiCache both sit in the isolated subnets, where no
			// pod has an address: neither rule admits a pod.
			"db-clients-to-data": "db-clients [Egress] egress " + strings.Join(iso, ",") + " TCP/5432; egress " + strings.Join(iso, ",") + " TCP/6379",
			"backend-to-https":   "backend [Egress] egress " + internet + " TCP/443",
		}
		if len(got) != len(want) {
			t.Errorf("policies: want %d, got %d: %v", len(want), len(got), slices.Sorted(maps.Keys(got)))
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("NetworkPolicy %s:\nwant %s\ngot  %s", k, w, got[k])
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestEdge(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		charts := map[string]string{}
		for _, r := range res.ByType(typeRelease) {
			p := r.Plain()
			charts[p["name"].(string)] = p["version"].(string)
			if p["atomic"] != true {
				t.Errorf("release %s is not atomic", r.Name)
			}
		}
		want := map[string]string{
			"aws-load-balancer-controller": cfg.App.Charts.LoadBalancerController, "cert-manager": cfg.App.Charts.CertManager,
			"nginx-gateway-fabric": cfg.App.Charts.GatewayFabric, "external-dns": cfg.App.Charts.ExternalDNS,
			"cluster-autoscaler": cfg.Cluster.Autoscaler.Chart, "kube-prometheus-stack": cfg.Observability.Chart,
			"eck-operator": cfg.Logging.OperatorChart,
		}
		if !maps.Equal(charts, want) {
			t.Errorf("charts: want %v, got %v", want, charts)
		}
		gw := one(t, res, typeGateway, "gateway-public").Plain()
		listeners := path(gw, "spec", "listeners").([]any)
		if len(listeners) != 1+len(cfg.App.Hostnames) || path(listeners[0], "protocol") != "HTTP" {
			t.Fatalf("Gateway listeners: want HTTP plus one HTTPS per hostname, got %v", listeners)
		}
		for i, h := range cfg.App.Hostnames {
			l := listeners[i+1]
			if path(l, "hostname") != h || path(l, "protocol") != "HTTPS" || path(l, "port") != int64(443) || path(l, "tls", "mode") != "Terminate" {
				t.Errorf("listener for %s: got %v", h, l)
			}
		}
		if path(gw, "metadata", "annotations", "cert-manager.io/cluster-issuer") != "letsencrypt" {
			t.Errorf("Gateway certificates are not issued by cert-manager")
		}
		if path(gw, "spec", "infrastructure", "annotations", "service.beta.kubernetes.io/aws-load-balancer-scheme") != "internet-facing" {
			t.Errorf("the Gateway is not behind an internet-facing NLB")
		}
		redirect := one(t, res, typeHTTPRoute, "httproute-https-redirect").Plain()
		f := path(redirect, "spec", "rules").([]any)[0]
		if path(path(f, "filters").([]any)[0], "requestRedirect", "scheme") != "https" {
			t.Errorf("HTTP is not redirected to HTTPS: %v", f)
		}
		route := one(t, res, typeHTTPRoute, "httproute-app").Plain()
		for _, rule := range path(route, "spec", "rules").([]any) {
			set := path(path(rule, "filters").([]any)[0], "responseHeaderModifier", "set").([]any)
			headers := map[string]string{}
			for _, h := range set {
				headers[path(h, "name").(string)] = path(h, "value").(string)
			}
			if !strings.Contains(headers["Strict-Transport-Security"], "preload") || headers["X-Frame-Options"] != "DENY" || headers["X-Content-Type-Options"] != "nosniff" ||
				headers["Content-Security-Policy"] == "" || headers["Referrer-Policy"] == "" || headers["Permissions-Policy"] == "" {
				t.Errorf("security headers on %v: %v", path(rule, "matches"), headers)
			}
		}
		rl := one(t, res, "kubernetes:gateway.nginx.org/v1alpha1:RateLimitPolicy", "ratelimitpolicy-app-rate-limit").Plain()
		r := path(rl, "spec", "rateLimit", "local", "rules").([]any)[0]
		// rejectCode is policy-wide in NGF 2.4.0 (rules have no such field).
		if path(rl, "spec", "targetRefs").([]any)[0].(map[string]any)["name"] != "app" || path(r, "rate") != itoa(int64(cfg.App.RateLimit.RequestsPerSecond))+"r/s" ||
			path(rl, "spec", "rateLimit", "rejectCode") != int64(429) || path(r, "rejectCode") != nil {
			t.Errorf("rate limit: got %v", rl)
		}
		for _, rule := range path(one(t, res, typeHTTPRoute, "httproute-app").Plain(), "spec", "rules").([]any) {
			if path(rule, "timeouts") != nil {
				t.Errorf("route rule %v sets timeouts, which NGF 2.4.0 ignores", path(rule, "matches"))
			}
		}
		cs := one(t, res, "kubernetes:gateway.nginx.org/v1alpha1:ClientSettingsPolicy", "clientsettingspolicy-gateway-client-settings").Plain()
		if path(cs, "spec", "body", "maxSize") != cfg.App.MaxBodySize {
			t.Errorf("body limit: got %v", path(cs, "spec", "body"))
		}
		issuer := one(t, res, "kubernetes:cert-manager.io/v1:ClusterIssuer", "clusterissuer-letsencrypt").Plain()
		if path(issuer, "spec", "acme", "email") != cfg.App.AcmeEmail {
			t.Errorf("ClusterIssuer email: got %v", path(issuer, "spec", "acme", "email"))
		}
		// external-dns may change records in the configured zone only.
		doc := parsePolicy(t, one(t, res, typeRolePolicy, cfg.Cluster.Name+"-external-dns").Plain()["policy"])
		for _, s := range doc.Statement {
			if slices.Contains(list(s.Action), "route53:ChangeResourceRecordSets") && !slices.Equal(list(s.Resource), []string{"arn:aws:route53:::hostedzone/" + cfg.App.Route53ZoneId}) {
				t.Errorf("external-dns may change records in %v", s.Resource)
			}
		}
		for role, sa := range map[string]string{"external-dns": "external-dns", "lb-controller": "aws-load-balancer-controller"} {
			trust := parsePolicy(t, one(t, res, typeRole, cfg.Cluster.Name+"-"+role).Plain()["assumeRolePolicy"])
			found := false
			for k, v := range trust.Statement[0].Condition["StringEquals"] {
				if strings.HasSuffix(k, ":sub") && slices.Equal(list(v), []string{"system:serviceaccount:kube-system:" + sa}) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s role is not limited to kube-system/%s: %v", role, sa, trust.Statement[0].Condition)
			}
		}
	})
}

// migrationJobs are the app tier's Jobs (the Observability component runs
// one of its own).
func migrationJobs(res *synth.Result) []synth.Resource {
	var jobs []synth.Resource
	for _, j := range res.ByType(typeJob) {
		if strings.HasPrefix(j.Name, "backend-migrate") {
			jobs = append(jobs, j)
		}
	}
	return jobs
}
