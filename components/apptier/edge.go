package apptier

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// The edge: how a request from the internet reaches a pod.
//
//	client -> NLB (AWS Load Balancer Controller, internet-facing, IP targets)
//	       -> NGINX (NGINX Gateway Fabric, one per Gateway) -> frontend / backend
//
// What the edge enforces, and where:
//   - TLS: cert-manager issues a Let's Encrypt certificate per hostname
//     (HTTP-01 through the Gateway); HTTP is redirected to HTTPS.
//   - Security headers (HSTS with preload, CSP, X-Frame-Options DENY,
//     X-Content-Type-Options, Referrer-Policy, Permissions-Policy): a
//     ResponseHeaderModifier filter on every route rule.
//   - Rate limiting: NGF's RateLimitPolicy on the app's route, per client IP
//     (the NLB preserves client IPs).
//   - Request body limit, body and keep-alive timeouts: NGF's
//     ClientSettingsPolicy on the Gateway. The API's request timeout is the
//     route rule's Gateway API timeouts (an Extended feature: check NGF's
//     compatibility page for the pinned version); NGINX's 60 s proxy read
//     timeout bounds a request in any case.
//   - WebSockets: NGF proxies Upgrade requests as they are; the WebSocket
//     path has a rule of its own with no request timeout.
//   - CORS: the Gateway API CORS filter is experimental-channel only, so the
//     backend answers CORS itself from CORS_ORIGINS (the ConfigMap), which
//     this program sets to exactly the configured origins.

const (
	gatewayName          = "public"
	gatewayClass         = "nginx"
	clusterIssuer        = "letsencrypt"
	CertManagerNamespace = "cert-manager"
	lbControllerSA       = "aws-load-balancer-controller"
	externalDNSSA        = "external-dns"
	controllersNS        = "kube-system"
	rateLimitZone        = "10m"
	rateLimitStatus      = 429
	keepAliveSeconds     = 75
	// controllerReplicas runs two of each edge controller: one survives a
	// node drain or loss (leader election picks it up).
	controllerReplicas = 2
	// hstsMaxAge is two years, what the HSTS preload list requires at least.
	hstsMaxAge = 63072000
)

// SecurityHeaders are set on every response the edge returns.
func SecurityHeaders(hostnames []string) map[string]string {
	var connect []string
	for _, h := range hostnames {
		connect = append(connect, "https://"+h, "wss://"+h)
	}
	return map[string]string{
		"Strict-Transport-Security": fmt.Sprintf("max-age=%d; includeSubDomains; preload", hstsMaxAge),
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; " +
			"font-src 'self' data:; connect-src 'self' " + strings.Join(connect, " ") + "; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
		"Permissions-Policy":     "camera=(), microphone=(), geolocation=(), payment=(self)",
	}
}

// listenerName is the HTTPS listener of one hostname; validation keeps
// them unique.
func listenerName(host string) string { return config.ListenerName(host) }

func tlsSecretName(host string) string {
	return "tls-" + strings.ReplaceAll(host, ".", "-")
}

type obj = map[string]any

func customResource(ctx *pulumi.Context, name, apiVersion, kind, namespace string, spec obj, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	return kit.NewCustomResource(ctx, kit.CustomResource{
		APIVersion: apiVersion, Kind: kind, Name: name, Namespace: namespace, PartOf: PartOf,
		Fields: map[string]any{"spec": spec},
	}, opts...)
}

// release installs one of the edge's charts into a namespace this program
// declares (never one the chart creates).
func release(ctx *pulumi.Context, mirror, name, chart, repo, version, namespace string, values pulumi.Map, opts ...pulumi.ResourceOption) (*kit.Release, error) {
	return kit.NewRelease(ctx, kit.Chart{
		Name: name, Chart: chart, Repo: repo, Version: version,
		Namespace: namespace, Values: values, Mirror: mirror,
	}, opts...)
}

// onAddonsPool is a chart component's placement on the system pool: its
// nodeSelector and the CriticalAddonsOnly toleration (both plain chart
// values in the load balancer controller 1.14.0, external-dns 1.19.0 and
// every cert-manager v1.19.1 component). extra are selector labels to
// keep (cert-manager's default kubernetes.io/os: linux, which a value
// replaces). Without a system pool it is empty: the chart's defaults.
func onAddonsPool(pool map[string]string, values pulumi.Map, extra map[string]string) pulumi.Map {
	if len(pool) == 0 {
		return values
	}
	sel := pulumi.StringMap{}
	for k, v := range extra {
		sel[k] = pulumi.String(v)
	}
	for k, v := range pool {
		sel[k] = pulumi.String(v)
	}
	values["nodeSelector"] = sel
	values["tolerations"] = pulumi.MapArray{pulumi.Map{"key": pulumi.String("CriticalAddonsOnly"), "operator": pulumi.String("Exists")}}
	return values
}

// linux is cert-manager's default nodeSelector for each component.
var linux = map[string]string{"kubernetes.io/os": "linux"}

// resources are a chart container's requests and limits from config.
func resources(r config.ResourcesConfig) pulumi.Map {
	return pulumi.ToMap(kit.ResourcesMap(r))
}

// GatewayAPICRDs is where the Gateway API's standard CRDs of a release are
// read from: its GitHub release, or beside the charts in the chart mirror
// (cluster.chartRepository) as gateway-api-<version>-standard-install.yaml.
func GatewayAPICRDs(mirror, version string) string {
	if mirror != "" {
		return strings.TrimSuffix(mirror, "/") + "/gateway-api-" + version + "-standard-install.yaml"
	}
	return fmt.Sprintf("https://github.com/kubernetes-sigs/gateway-api/releases/download/%s/standard-install.yaml", version)
}

func edge(ctx *pulumi.Context, t *AppTier, args Args) error {
	app := args.App
	parent := pulumi.Parent(t)

	crds, err := kit.NewConfigFile(ctx, "gateway-api-crds", GatewayAPICRDs(args.ChartRepository, app.Charts.GatewayAPI), parent)
	if err != nil {
		return fmt.Errorf("installing the Gateway API CRDs: %w", err)
	}
	// The controllers below watch Gateway API kinds from their first start;
	// the CRDs pass no value to them, so the order is explicit.
	afterCRDs := pulumi.DependsOn([]pulumi.Resource{crds})

	lbRole, err := args.OIDC.Role(ctx, args.Namer.Name("lb-controller"), kit.IRSAArgs{
		Namespace: controllersNS, ServiceAccount: lbControllerSA, Policy: loadBalancerControllerPolicy(ctx, args, parent),
	}, parent)
	if err != nil {
		return err
	}
	lbc, err := release(ctx, args.ChartRepository, "aws-load-balancer-controller", "aws-load-balancer-controller", "https://aws.github.io/eks-charts", app.Charts.LoadBalancerController, controllersNS, onAddonsPool(args.AddonsPool, pulumi.Map{
		"clusterName":  pulumi.String(args.ClusterName),
		"region":       pulumi.String(args.Account.Region),
		"vpcId":        args.VpcId,
		"replicaCount": pulumi.Int(controllerReplicas),
		"resources":    resources(app.Controllers[config.ControllerLoadBalancer]),
		// The chart's default keeps the read-only root, non-root and no
		// escalation, and leaves capabilities commented out.
		"securityContext": pulumi.Map{"capabilities": pulumi.Map{"drop": pulumi.ToStringArray([]string{"ALL"})}},
		// Used verbatim as the PDB's spec (chart 1.14.0 makes one only
		// when this is set and replicaCount > 1).
		"podDisruptionBudget": pulumi.Map{"maxUnavailable": pulumi.Int(1)},
		// Only Services that ask for it (the Gateway's) get an NLB.
		"enableServiceMutatorWebhook": pulumi.Bool(false),
		// NLBs only: no WAF, WAFv2 or Shield protection to reconcile (on
		// by default, each calls its API on every reconcile), and no ALB
		// IngressClass.
		"enableShield":               pulumi.Bool(false),
		"enableWaf":                  pulumi.Bool(false),
		"enableWafv2":                pulumi.Bool(false),
		"createIngressClassResource": pulumi.Bool(false),
		// The stack's tags on the NLB, target groups and security groups
		// it creates outside Pulumi (the provider's defaultTags reach only
		// what Pulumi creates).
		"defaultTags": pulumi.ToStringMap(args.Tags),
		"serviceAccount": pulumi.Map{
			"create": pulumi.Bool(true), "name": pulumi.String(lbControllerSA),
			"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": lbRole.Role.Arn},
		},
	}, nil), parent, pulumi.DependsOn(lbRole.Attachments))
	if err != nil {
		return err
	}

	// The edge's own namespaces, declared here rather than by Helm so that
	// they carry Pod Security labels and start from default deny. Both
	// charts' pods meet the restricted profile (NGF binds ports 80 and 443
	// through the ip_unprivileged_port_start sysctl, not a capability).
	namespaces := map[string]pulumi.Resource{}
	for _, ns := range EdgeNamespaces(args.Network, app.Namespace) {
		created, err := kit.NewNamespace(ctx, ns, parent)
		if err != nil {
			return err
		}
		namespaces[ns.Name] = created
	}

	certManager, err := release(ctx, args.ChartRepository, "cert-manager", "cert-manager", "https://charts.jetstack.io", app.Charts.CertManager, CertManagerNamespace, onAddonsPool(args.AddonsPool, pulumi.Map{
		"crds":                pulumi.Map{"enabled": pulumi.Bool(true)},
		"replicaCount":        pulumi.Int(controllerReplicas),
		"podDisruptionBudget": pulumi.Map{"enabled": pulumi.Bool(true)},
		"resources":           resources(app.Controllers[config.ControllerCertManager]),
		// The webhook admits every cert-manager object: one replica down
		// would block certificate changes.
		"webhook": onAddonsPool(args.AddonsPool, pulumi.Map{
			"replicaCount":        pulumi.Int(controllerReplicas),
			"podDisruptionBudget": pulumi.Map{"enabled": pulumi.Bool(true)},
			"resources":           resources(app.Controllers[config.ControllerCertManagerWebhook]),
		}, linux),
		"cainjector":      onAddonsPool(args.AddonsPool, pulumi.Map{"resources": resources(app.Controllers[config.ControllerCertManagerCAInjector])}, linux),
		"startupapicheck": onAddonsPool(args.AddonsPool, pulumi.Map{"resources": resources(app.Controllers[config.ControllerCertManagerStartupCheck])}, linux),
		"config": pulumi.Map{
			"apiVersion":       pulumi.String("controller.config.cert-manager.io/v1alpha1"),
			"kind":             pulumi.String("ControllerConfiguration"),
			"enableGatewayAPI": pulumi.Bool(true),
		},
	}, linux), parent, afterCRDs, pulumi.DependsOn([]pulumi.Resource{namespaces[CertManagerNamespace]}))
	if err != nil {
		return err
	}
	// NGF 2.4.0's cert-generator Job has no resources value
	// (templates/certs-job.yaml): the namespace's LimitRange gives it, and
	// any other container that states none, small requests at admission.
	gatewayLimits, err := corev1.NewLimitRange(ctx, GatewayNamespace, &corev1.LimitRangeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(GatewayNamespace), Namespace: pulumi.String(GatewayNamespace), Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String(PartOf)}},
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("32Mi")},
			Default:        pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("64Mi")},
		}}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{namespaces[GatewayNamespace]}))
	if err != nil {
		return fmt.Errorf("creating the %s LimitRange: %w", GatewayNamespace, err)
	}
	ngf, err := release(ctx, args.ChartRepository, "nginx-gateway-fabric", "oci://ghcr.io/nginx/charts/nginx-gateway-fabric", "", app.Charts.GatewayFabric, GatewayNamespace, GatewayFabricValues(app, args.CDN != nil), parent, afterCRDs,
		pulumi.DependsOn([]pulumi.Resource{namespaces[GatewayNamespace], gatewayLimits}))
	if err != nil {
		return err
	}
	// Neither the chart nor NGF makes disruption budgets: a node drain
	// must leave NGINX pods serving and a control plane running.
	for _, pdb := range GatewayPDBs() {
		if _, err := policyv1.NewPodDisruptionBudget(ctx, GatewayNamespace+"-"+pdb.Name, &policyv1.PodDisruptionBudgetArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(pdb.Name), Namespace: pulumi.String(GatewayNamespace), Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String(PartOf)}},
			Spec: &policyv1.PodDisruptionBudgetSpecArgs{
				MaxUnavailable: pulumi.Int(1),
				Selector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(pdb.Selector)},
			},
		}, parent, pulumi.DependsOn([]pulumi.Resource{namespaces[GatewayNamespace]})); err != nil {
			return fmt.Errorf("creating PodDisruptionBudget %s: %w", pdb.Name, err)
		}
	}

	dnsRole, err := args.OIDC.Role(ctx, args.Namer.Name("external-dns"), kit.IRSAArgs{
		Namespace: controllersNS, ServiceAccount: externalDNSSA, Policy: externalDNSPolicy(ctx, args, parent),
	}, parent)
	if err != nil {
		return err
	}
	externalDNS, err := release(ctx, args.ChartRepository, "external-dns", "external-dns", "https://kubernetes-sigs.github.io/external-dns/", app.Charts.ExternalDNS, controllersNS, onAddonsPool(args.AddonsPool, pulumi.Map{
		"provider":      pulumi.Map{"name": pulumi.String("aws")},
		"sources":       pulumi.ToStringArray([]string{"gateway-httproute"}),
		"domainFilters": pulumi.ToStringArray(app.Hostnames),
		// Only the routes labelled for it (external-dns v0.19.0 lists
		// routes with --label-filter, source/gateway.go:200): with a CDN,
		// the hostnames are Pulumi's alias records to it, and neither the
		// app's routes nor cert-manager's HTTP-01 routes (same hostnames,
		// labels of cert-manager's) may point them back at the NLB.
		"labelFilter": pulumi.String(DNSLabel + "=" + DNSLabelValue),
		// Never delete records it did not create, and mark the ones it did.
		"policy":     pulumi.String("upsert-only"),
		"registry":   pulumi.String("txt"),
		"txtOwnerId": pulumi.String(args.ClusterName),
		"resources":  resources(app.Controllers[config.ControllerExternalDNS]),
		"extraArgs":  pulumi.ToStringArray([]string{"--zone-id-filter=" + app.Route53ZoneId, "--aws-zone-type=public"}),
		"env":        pulumi.MapArray{pulumi.Map{"name": pulumi.String("AWS_DEFAULT_REGION"), "value": pulumi.String(args.Account.Region)}},
		"serviceAccount": pulumi.Map{
			"create": pulumi.Bool(true), "name": pulumi.String(externalDNSSA),
			"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": dnsRole.Role.Arn},
		},
	}, nil), parent, afterCRDs, pulumi.DependsOn(dnsRole.Attachments))
	if err != nil {
		return err
	}

	issuer, err := customResource(ctx, clusterIssuer, "cert-manager.io/v1", "ClusterIssuer", "", obj{
		"acme": obj{
			"email":               app.AcmeEmail,
			"server":              app.AcmeServer,
			"privateKeySecretRef": obj{"name": clusterIssuer + "-account"},
			"solvers": []any{obj{"http01": obj{"gatewayHTTPRoute": obj{
				"parentRefs": []any{
					obj{"name": gatewayName, "namespace": GatewayNamespace, "kind": "Gateway", "sectionName": "http"},
				},
				// NGINX reaches the solver at its pod's address; cert-manager's
				// default NodePort Service would open a port on every node
				// for nothing (pkg/issuer/acme/http/http.go:99-107, v1.19.1).
				"serviceType": "ClusterIP",
			}}}},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{certManager}))
	if err != nil {
		return fmt.Errorf("creating the ClusterIssuer: %w", err)
	}

	gateway, err := gatewayResource(ctx, args, parent, pulumi.DependsOn([]pulumi.Resource{ngf, lbc, issuer}))
	if err != nil {
		return err
	}
	var dnsReady []pulumi.Resource
	if args.CDN != nil {
		// The hostnames move to the CDN once external-dns runs with its
		// label filter: an external-dns pod of before, still rolling out,
		// would write them back to the load balancer.
		if dnsReady, err = cdnRecords(ctx, args, parent, pulumi.DependsOn([]pulumi.Resource{externalDNS})); err != nil {
			return err
		}
	}
	return routes(ctx, args, dnsReady, parent, pulumi.DependsOn([]pulumi.Resource{gateway}))
}

// GatewaySpec is the public Gateway: HTTP for redirects and ACME, one HTTPS
// listener per hostname with its own certificate, an internet-facing NLB.
func GatewaySpec(hostnames []string, appNamespace string) obj {
	listeners := []any{obj{
		"name": "http", "port": 80, "protocol": "HTTP",
		// The redirect route and cert-manager's HTTP-01 routes live here.
		"allowedRoutes": obj{"namespaces": obj{"from": "Same"}},
	}}
	for _, h := range hostnames {
		listeners = append(listeners, obj{
			"name": listenerName(h), "port": 443, "protocol": "HTTPS", "hostname": h,
			"tls": obj{"mode": "Terminate", "certificateRefs": []any{obj{"kind": "Secret", "name": tlsSecretName(h)}}},
			"allowedRoutes": obj{"namespaces": obj{"from": "Selector", "selector": obj{
				"matchLabels": obj{"kubernetes.io/metadata.name": appNamespace},
			}}},
		})
	}
	return obj{
		"gatewayClassName": gatewayClass,
		"infrastructure": obj{"annotations": obj{
			"service.beta.kubernetes.io/aws-load-balancer-type":                              "external",
			"service.beta.kubernetes.io/aws-load-balancer-scheme":                            "internet-facing",
			"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type":                   "ip",
			"service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":           "preserve_client_ip.enabled=true",
			"service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
		}},
		"listeners": listeners,
	}
}

func gatewayResource(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	app := args.App
	gw, err := apiextensions.NewCustomResource(ctx, "gateway-"+gatewayName, &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("gateway.networking.k8s.io/v1"),
		Kind:       pulumi.String("Gateway"),
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(gatewayName), Namespace: pulumi.String(GatewayNamespace),
			Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String(PartOf)},
			// cert-manager's gateway shim issues a certificate per HTTPS listener.
			Annotations: pulumi.StringMap{"cert-manager.io/cluster-issuer": pulumi.String(clusterIssuer)},
		},
		OtherFields: kubernetes.UntypedArgs{"spec": GatewaySpec(app.Hostnames, app.Namespace)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Gateway: %w", err)
	}
	if _, err := customResource(ctx, "gateway-client-settings", "gateway.nginx.org/v1alpha1", "ClientSettingsPolicy", GatewayNamespace, obj{
		"targetRef": obj{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gatewayName},
		"body":      obj{"maxSize": app.MaxBodySize, "timeout": "60s"},
		"keepAlive": obj{"timeout": obj{"server": fmt.Sprintf("%ds", keepAliveSeconds)}},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{gw}))...); err != nil {
		return nil, fmt.Errorf("creating the ClientSettingsPolicy: %w", err)
	}
	return gw, nil
}

// headerFilter sets the security headers on a rule's responses.
func headerFilter(hostnames []string) obj {
	var set []any
	headers := SecurityHeaders(hostnames)
	for _, k := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"} {
		set = append(set, obj{"name": k, "value": headers[k]})
	}
	return obj{"type": "ResponseHeaderModifier", "responseHeaderModifier": obj{"set": set}}
}

func backendRef(service string) []any {
	return []any{obj{"name": service, "port": ServicePort}}
}

// HeaderMatch is a header every request of a route must carry.
type HeaderMatch struct {
	Name  string
	Value pulumi.StringInput
}

// AppRouteSpec routes /api and the WebSocket path to the backend and
// everything else to the frontend, on every HTTPS listener. It sets no
// Gateway API `timeouts`: NGF 2.4 ignores them (the route is accepted with
// reason UnsupportedField); the backend enforces app.requestTimeoutSeconds
// itself (REQUEST_TIMEOUT_SECONDS) and NGINX's 60 s proxy read timeout ends
// an upstream that goes silent.
//
// Behind a CDN every match also requires the origin header (an Exact
// header match, Core in Gateway API v1.4.1 and served by NGF 2.4.0): a
// request to the load balancer that did not come through the CDN matches
// no rule and gets NGINX's 404.
func AppRouteSpec(hostnames []string, webSocketPath string, origin *HeaderMatch) obj {
	var parents []any
	for _, h := range hostnames {
		parents = append(parents, obj{"name": gatewayName, "namespace": GatewayNamespace, "sectionName": listenerName(h)})
	}
	prefix := func(p string) []any {
		m := obj{"path": obj{"type": "PathPrefix", "value": p}}
		if origin != nil {
			m["headers"] = []any{obj{"type": "Exact", "name": origin.Name, "value": origin.Value}}
		}
		return []any{m}
	}
	hdr := headerFilter(hostnames)
	return obj{
		"parentRefs": parents,
		"hostnames":  hostnames,
		"rules": []any{
			obj{"matches": prefix("/api"), "backendRefs": backendRef("backend"), "filters": []any{hdr}},
			// Long-lived WebSocket connections; socket.io's 25 s pings keep
			// them inside NGINX's read timeout.
			obj{"matches": prefix(webSocketPath), "backendRefs": backendRef("backend"), "filters": []any{hdr}},
			obj{"matches": prefix("/"), "backendRefs": backendRef("frontend"), "filters": []any{hdr}},
		},
	}
}

// DNSLabel marks the HTTPRoutes whose hostnames external-dns points at the
// Gateway (its labelFilter): the app's routes without a CDN, the origin
// route with one.
const (
	DNSLabel      = "scrolluniversity.io/dns"
	DNSLabelValue = "external-dns"
)

// OriginRouteSpec gives the CDN's origin hostname a route on the HTTP
// listener, so that external-dns points it at the Gateway; a visitor who
// asks for it is sent to the app's first hostname.
func OriginRouteSpec(originHost, appHost string) obj {
	return obj{
		"parentRefs": []any{obj{"name": gatewayName, "sectionName": "http"}},
		"hostnames":  []any{originHost},
		"rules": []any{obj{"filters": []any{obj{
			"type": "RequestRedirect", "requestRedirect": obj{"scheme": "https", "hostname": appHost, "statusCode": 301},
		}}}},
	}
}

// cdnRecords point the app's hostnames at the CDN, IPv4 and IPv6: alias
// records Pulumi owns. Overwriting takes over the records external-dns
// made before the CDN (docs/DEPLOYMENT.md, "Putting CloudFront in front").
func cdnRecords(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	opts = append(opts, pulumi.Provider(args.AWSProvider))
	var out []pulumi.Resource
	for _, h := range args.App.Hostnames {
		for _, typ := range []string{"A", "AAAA"} {
			r, err := route53.NewRecord(ctx, args.Namer.Name("cdn", h, typ), &route53.RecordArgs{
				ZoneId: pulumi.String(args.App.Route53ZoneId), Name: pulumi.String(h), Type: pulumi.String(typ),
				Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
					Name: args.CDN.DomainName, ZoneId: args.CDN.HostedZoneId, EvaluateTargetHealth: pulumi.Bool(false),
				}},
				AllowOverwrite: pulumi.Bool(true),
			}, opts...)
			if err != nil {
				return nil, fmt.Errorf("creating the %s record of %s: %w", typ, h, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// routes makes the HTTPRoutes. Behind a CDN the app's route requires the
// origin header only once the hostnames point at the CDN (dnsReady), which
// waits for the distribution's deployment: until then viewers still come
// straight to the load balancer.
func routes(ctx *pulumi.Context, args Args, dnsReady []pulumi.Resource, opts ...pulumi.ResourceOption) error {
	app := args.App
	route := func(name, namespace string, spec any, dns bool) (*apiextensions.CustomResource, error) {
		cr := kit.CustomResource{
			APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute", Name: name, Namespace: namespace, PartOf: PartOf,
			Fields: map[string]any{"spec": spec},
		}
		if dns {
			cr.Labels = map[string]string{DNSLabel: DNSLabelValue}
		}
		return kit.NewCustomResource(ctx, cr, opts...)
	}
	behindCDN := args.CDN != nil
	if _, err := route("https-redirect", GatewayNamespace, obj{
		"parentRefs": []any{obj{"name": gatewayName, "sectionName": "http"}},
		"hostnames":  app.Hostnames,
		"rules": []any{obj{"filters": []any{obj{
			"type": "RequestRedirect", "requestRedirect": obj{"scheme": "https", "statusCode": 301},
		}}}},
	}, !behindCDN); err != nil {
		return fmt.Errorf("creating the HTTPS redirect: %w", err)
	}
	var appSpec any = AppRouteSpec(app.Hostnames, app.WebSocketPath, nil)
	if behindCDN {
		if _, err := route("origin", GatewayNamespace, OriginRouteSpec(args.CDN.Hostname, app.Hostnames[0]), true); err != nil {
			return fmt.Errorf("creating the origin route: %w", err)
		}
		// The header's value is the origin secret, a secret output: it
		// stays secret in the state and redacted in the synthesizer's
		// manifests, and the rest of the spec stays plain.
		appSpec = AppRouteSpec(app.Hostnames, app.WebSocketPath, &HeaderMatch{Name: args.CDN.Header, Value: args.CDN.Secret})
	}
	opts = append(opts, pulumi.DependsOn(dnsReady))
	appRoute, err := route("app", app.Namespace, appSpec, !behindCDN)
	if err != nil {
		return fmt.Errorf("creating the app route: %w", err)
	}
	if _, err := customResource(ctx, "app-rate-limit", "gateway.nginx.org/v1alpha1", "RateLimitPolicy", app.Namespace, RateLimitSpec(app.RateLimit), append(opts, pulumi.DependsOn([]pulumi.Resource{appRoute}))...); err != nil {
		return fmt.Errorf("creating the rate limit: %w", err)
	}
	return nil
}

// RateLimitSpec limits each client IP (the NLB preserves it) on the app's
// route, answering 429 past the burst. The reject code belongs to the whole
// policy (spec.rateLimit.rejectCode), not to a rule.
func RateLimitSpec(rl config.RateLimitConfig) obj {
	return obj{
		"targetRefs": []any{obj{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "app"}},
		"rateLimit": obj{
			"rejectCode": rateLimitStatus,
			"local": obj{"rules": []any{obj{
				"key":      "$binary_remote_addr",
				"rate":     fmt.Sprintf("%dr/s", rl.RequestsPerSecond),
				"burst":    rl.Burst,
				"noDelay":  true,
				"zoneSize": rateLimitZone,
			}}},
		},
	}
}

// externalDNSPolicy lets external-dns change records in the configured zone
// and nowhere else; listing zones has no resource-level scope in Route 53.
func externalDNSPolicy(ctx *pulumi.Context, args Args, parent pulumi.ResourceOrInvokeOption) pulumi.StringOutput {
	zone := fmt.Sprintf("arn:%s:route53:::hostedzone/%s", args.Account.Partition, args.App.Route53ZoneId)
	return iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
			iam.GetPolicyDocumentStatementArgs{
				Actions:   pulumi.ToStringArray([]string{"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"}),
				Resources: pulumi.StringArray{pulumi.String(zone)},
			},
			iam.GetPolicyDocumentStatementArgs{
				Actions:   pulumi.ToStringArray([]string{"route53:ListHostedZones"}),
				Resources: pulumi.StringArray{pulumi.String("*")},
			},
		},
	}, parent).Json()
}

// lbcClusterTag is the tag the load balancer controller puts on every
// resource it creates, with the cluster's name (pkg/deploy/tracking at
// v2.14.0: elbv2.k8s.aws/cluster).
const lbcClusterTag = "elbv2.k8s.aws/cluster"

// loadBalancerControllerPolicy is what the AWS Load Balancer Controller
// v2.14 needs to run NLBs for this cluster, statement by statement the
// upstream recommendation (docs/install/iam_policy.json at v2.14.0) with
// every change named in tests/iam_upstream_test.go: read everything it
// reconciles; create load balancers, target groups, listeners and security
// groups tagged as this cluster's (not merely tagged for some cluster: a
// stack sharing the account must not touch another's); change, tag or
// delete only those; no WAF, Shield or Cognito (turned off in the chart's
// values), no server certificates (TLS ends at NGINX).
func loadBalancerControllerPolicy(ctx *pulumi.Context, args Args, parent pulumi.ResourceOrInvokeOption) pulumi.StringOutput {
	p := args.Account.Partition
	type cond = iam.GetPolicyDocumentStatementConditionArgs
	stmt := func(actions []string, resources pulumi.StringArray, conditions ...cond) iam.GetPolicyDocumentStatementArgs {
		var cs iam.GetPolicyDocumentStatementConditionArray
		for _, c := range conditions {
			cs = append(cs, c)
		}
		return iam.GetPolicyDocumentStatementArgs{Actions: pulumi.ToStringArray(actions), Resources: resources, Conditions: cs}
	}
	all := pulumi.StringArray{pulumi.String("*")}
	arns := func(format ...string) pulumi.StringArray {
		var out pulumi.StringArray
		for _, f := range format {
			out = append(out, pulumi.Sprintf(f, p))
		}
		return out
	}
	ours := func(key string) cond { // key: aws:ResourceTag or aws:RequestTag
		return cond{Test: pulumi.String("StringEquals"), Variable: pulumi.String(key + "/" + lbcClusterTag), Values: pulumi.StringArray{pulumi.String(args.ClusterName)}}
	}
	// The request does not set the cluster tag: a resource cannot be
	// handed to another cluster by retagging it.
	noClusterRetag := cond{Test: pulumi.String("Null"), Variable: pulumi.String("aws:RequestTag/" + lbcClusterTag), Values: pulumi.StringArray{pulumi.String("true")}}
	createAction := func(key string, actions ...string) cond {
		return cond{Test: pulumi.String("StringEquals"), Variable: pulumi.String(key), Values: pulumi.ToStringArray(actions)}
	}
	securityGroups := arns("arn:%s:ec2:*:*:security-group/*")
	lbsAndTargetGroups := arns("arn:%s:elasticloadbalancing:*:*:targetgroup/*/*", "arn:%s:elasticloadbalancing:*:*:loadbalancer/net/*/*", "arn:%s:elasticloadbalancing:*:*:loadbalancer/app/*/*")
	listeners := arns("arn:%s:elasticloadbalancing:*:*:listener/net/*/*/*", "arn:%s:elasticloadbalancing:*:*:listener/app/*/*/*",
		"arn:%s:elasticloadbalancing:*:*:listener-rule/net/*/*/*", "arn:%s:elasticloadbalancing:*:*:listener-rule/app/*/*/*")
	return iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
			stmt([]string{"iam:CreateServiceLinkedRole"}, all, cond{Test: pulumi.String("StringEquals"), Variable: pulumi.String("iam:AWSServiceName"), Values: pulumi.StringArray{pulumi.String("elasticloadbalancing.amazonaws.com")}}),
			// Describe calls have no resource-level permissions.
			stmt([]string{
				"ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways",
				"ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
				"ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools",
				"ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
				"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
				"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
				"elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules",
				"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
				"elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTags",
				"elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeListenerAttributes",
				"elasticloadbalancing:DescribeCapacityReservation",
				"acm:ListCertificates", "acm:DescribeCertificate",
			}, all),
			stmt([]string{"ec2:CreateSecurityGroup"}, all),
			stmt([]string{"ec2:CreateTags"}, securityGroups, createAction("ec2:CreateAction", "CreateSecurityGroup"), ours("aws:RequestTag")),
			stmt([]string{"ec2:CreateTags", "ec2:DeleteTags"}, securityGroups, noClusterRetag, ours("aws:ResourceTag")),
			stmt([]string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"}, securityGroups, ours("aws:ResourceTag")),
			// The NLB's traffic reaches NGINX pods (IP targets), whose ENIs
			// carry the cluster security group: the controller adds the
			// load balancer's ingress rule there. Upstream's policy allows
			// this on every group; here it is that one group only.
			stmt([]string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"},
				pulumi.StringArray{pulumi.Sprintf("arn:%s:ec2:%s:%s:security-group/%s", p, args.Account.Region, args.Account.AccountID, args.ClusterSecurityGroupId)}),
			stmt([]string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"}, all, ours("aws:RequestTag")),
			// v2.14 creates listeners and rules with its tags (the
			// ListenerRulesTagging feature gate, on by default), so they
			// are as much this cluster's as the load balancer.
			stmt([]string{"elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateRule"}, all, ours("aws:RequestTag")),
			stmt([]string{"elasticloadbalancing:DeleteListener", "elasticloadbalancing:DeleteRule"}, all, ours("aws:ResourceTag")),
			stmt([]string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"}, lbsAndTargetGroups, noClusterRetag, ours("aws:ResourceTag")),
			stmt([]string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"}, listeners, noClusterRetag, ours("aws:ResourceTag")),
			// Tags on create: CreateLoadBalancer, CreateTargetGroup,
			// CreateListener and CreateRule each also authorize AddTags.
			stmt([]string{"elasticloadbalancing:AddTags"}, lbsAndTargetGroups, createAction("elasticloadbalancing:CreateAction", "CreateTargetGroup", "CreateLoadBalancer"), ours("aws:RequestTag")),
			stmt([]string{"elasticloadbalancing:AddTags"}, listeners, createAction("elasticloadbalancing:CreateAction", "CreateListener", "CreateRule"), ours("aws:RequestTag")),
			stmt([]string{
				"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups",
				"elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
				"elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes",
			}, all, ours("aws:ResourceTag")),
			stmt([]string{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"}, arns("arn:%s:elasticloadbalancing:*:*:targetgroup/*/*"), ours("aws:ResourceTag")),
			stmt([]string{"elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
				"elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities"}, all, ours("aws:ResourceTag")),
		},
	}, parent).Json()
}
