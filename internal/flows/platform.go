package flows

// The platform's connections, in one place: every flow its components
// need that is not derived from a monitor, a webhook, a probe or DNS
// (derived.go), and the flows it must never allow. appNS is the app's
// namespace (app.namespace); the others are fixed by the components.
//
// Each end names the workload the connection starts or ends at (its pods'
// labels come from the inventory, never from here), a Service its client
// dials by name, or an address outside the pod network. Ports are the
// Service's port or the container port, by name where the workload names
// it.
func Platform(appNS string) (required, forbidden []Flow) {
	w := func(kind, ns, name string) End { return End{Workload: kind + " " + ns + "/" + name} }
	svc := func(ns, name string) End { return End{Service: ns + "/" + name} }
	addr := func(a string) End { return End{Address: a} }
	apiServer := svc("default", "kubernetes")

	backend := w("Deployment", appNS, "backend")
	frontend := w("Deployment", appNS, "frontend")
	migrate := End{Pods: &PodSet{Namespaces: []string{appNS}, Labels: map[string]string{"app.kubernetes.io/name": "backend-migrate"}}}
	nginx := w("Deployment", "nginx-gateway", "public-nginx")
	ngf := w("Deployment", "nginx-gateway", "nginx-gateway-fabric")
	prometheus := w("StatefulSet", "monitoring", "prometheus-kps-prometheus")
	alertmanager := w("StatefulSet", "monitoring", "alertmanager-kps-alertmanager")
	grafana := w("Deployment", "monitoring", "grafana")
	eckOperator := w("StatefulSet", "logging", "elastic-operator")
	es := w("StatefulSet", "logging", "logs-es-default")
	kibana := w("Deployment", "logging", "logs-kb")
	logstash := w("StatefulSet", "logging", "logs-ls")
	filebeat := w("DaemonSet", "filebeat", "filebeat-beat-filebeat")
	everyPlatformPod := End{Pods: &PodSet{Namespaces: []string{appNS, "monitoring", "logging", "filebeat", "nginx-gateway"}}}

	// apiClients are the workloads that call the Kubernetes API: the
	// controllers, the operators, service discovery, Filebeat's
	// autodiscover, the sidecars that read ConfigMaps, the jobs that
	// create certificates' Secrets, and app-backup reading manifests.
	apiClients := []struct {
		end End
		why string
	}{
		{ngf, "NGINX Gateway Fabric watches Gateway API objects and writes their status"},
		{w("Job", "nginx-gateway", "nginx-gateway-fabric-cert-generator"), "NGF's install Job writes the agent's and server's TLS Secrets"},
		{w("Deployment", "cert-manager", "cert-manager"), "cert-manager watches Certificates and writes Secrets"},
		{w("Deployment", "cert-manager", "cert-manager-cainjector"), "the CA injector patches webhook configurations"},
		{w("Deployment", "cert-manager", "cert-manager-webhook"), "the webhook keeps its serving certificate in a Secret"},
		{w("Job", "cert-manager", "cert-manager-startupapicheck"), "the post-install check asks the API whether the webhook answers"},
		{w("Deployment", "kube-system", "aws-load-balancer-controller"), "the load balancer controller watches Services and TargetGroupBindings"},
		{w("Deployment", "kube-system", "external-dns"), "external-dns reads the routes' hostnames"},
		{w("Deployment", "kube-system", "cluster-autoscaler-aws-cluster-autoscaler"), "the autoscaler watches pending pods and nodes"},
		{prometheus, "Prometheus discovers its targets from Endpoints, Pods and Services"},
		{w("Deployment", "monitoring", "kps-operator"), "prometheus-operator reconciles Prometheus and Alertmanager"},
		{w("Deployment", "monitoring", "kube-prometheus-stack-kube-state-metrics"), "kube-state-metrics lists every object it reports on"},
		{grafana, "Grafana's sidecars read dashboard and data source ConfigMaps"},
		{eckOperator, "the ECK operator reconciles Elasticsearch, Kibana, Logstash and Beat"},
		{filebeat, "Filebeat's autodiscover reads pods' metadata"},
		{w("CronJob", appNS, "app-backup"), "app-backup copies the objects' manifests"},
	}
	for _, c := range apiClients {
		required = append(required, Flow{Name: "api " + c.end.Workload, Why: c.why, From: c.end, To: apiServer, Port: "https"})
	}

	required = append(required,
		// The edge.
		Flow{Name: "clients to NGINX (HTTP)", Why: "the NLB passes clients' HTTP (redirects, ACME HTTP-01) to NGINX", From: addr(Internet), To: nginx, Port: "port-80"},
		Flow{Name: "clients to NGINX (HTTPS)", Why: "the NLB passes clients' HTTPS to NGINX", From: addr(Internet), To: nginx, Port: "port-443"},
		Flow{Name: "NGINX to the backend", Why: "/api and the WebSocket path; NGF sends to the pods' addresses from EndpointSlices", From: nginx, To: backend, Port: "http"},
		Flow{Name: "NGINX to the frontend", Why: "/ and the static assets", From: nginx, To: frontend, Port: "http"},
		Flow{Name: "NGINX agent to NGF", Why: "each NGINX pod's agent fetches its configuration over gRPC", From: nginx, To: svc("nginx-gateway", "nginx-gateway-fabric"), Port: "agent-grpc"},
		Flow{Name: "NGINX to the ACME solver", Why: "HTTP-01: NGINX routes the challenge path to cert-manager's solver pod", From: nginx, To: w("Pod", "nginx-gateway", "cm-acme-http-solver"), Port: "http"},
		Flow{Name: "cert-manager to ACME", Why: "the ACME directory and order API over HTTPS", From: w("Deployment", "cert-manager", "cert-manager"), To: addr(Internet), Port: "443"},
		Flow{Name: "cert-manager HTTP-01 self check", Why: "cert-manager fetches the challenge from the public hostname before asking for validation", From: w("Deployment", "cert-manager", "cert-manager"), To: addr(Internet), Port: "80"},
		Flow{Name: "load balancer controller to AWS", Why: "ELBv2, EC2 and STS (IRSA) through the NAT gateway", From: w("Deployment", "kube-system", "aws-load-balancer-controller"), To: addr(Internet), Port: "443"},
		Flow{Name: "external-dns to AWS", Why: "Route 53 and STS", From: w("Deployment", "kube-system", "external-dns"), To: addr(Internet), Port: "443"},
		Flow{Name: "autoscaler to AWS", Why: "Auto Scaling, EC2, EKS and STS", From: w("Deployment", "kube-system", "cluster-autoscaler-aws-cluster-autoscaler"), To: addr(Internet), Port: "443"},

		// The app.
		Flow{Name: "backend to PostgreSQL", Why: "the app's database", From: backend, To: addr(Database), Port: "5432"},
		Flow{Name: "backend to Redis", Why: "sessions, cache and the WebSocket adapter", From: backend, To: addr(Cache), Port: "6379"},
		Flow{Name: "backend to external APIs", Why: "OpenAI, Stripe, Sentry, S3 and STS over HTTPS", From: backend, To: addr(Internet), Port: "443"},
		Flow{Name: "migration to PostgreSQL", Why: "the release's migration Job", From: migrate, To: addr(Database), Port: "5432"},

		// Monitoring.
		Flow{Name: "Prometheus to the control plane", Why: "scraping the API servers' own metrics at their endpoints", From: prometheus, To: addr(ControlPlane), Port: "443"},
		Flow{Name: "Prometheus to Alertmanager", Why: "alerts go to every Alertmanager pod, discovered from its Endpoints", From: prometheus, To: alertmanager, Port: "http-web"},
		Flow{Name: "Grafana to Prometheus", Why: "the data source http://kps-prometheus.monitoring:9090", From: grafana, To: svc("monitoring", "kps-prometheus"), Port: "http-web"},
		Flow{Name: "Grafana to Alertmanager", Why: "the Alertmanager data source", From: grafana, To: svc("monitoring", "kps-alertmanager"), Port: "http-web"},
		Flow{Name: "Alertmanager mesh (TCP)", Why: "replicas gossip silences and notification state", From: alertmanager, To: svc("monitoring", "alertmanager-operated"), Port: "tcp-mesh"},
		Flow{Name: "Alertmanager mesh (UDP)", Why: "replicas gossip silences and notification state", From: alertmanager, To: svc("monitoring", "alertmanager-operated"), Port: "udp-mesh", Protocol: "UDP"},
		Flow{Name: "Alertmanager to receivers", Why: "Slack, PagerDuty and the heartbeat over HTTPS", From: alertmanager, To: addr(Internet), Port: "443"},
		Flow{Name: "Alertmanager to SMTP", Why: "email through Amazon SES (STARTTLS)", From: alertmanager, To: addr(Internet), Port: "587"},
		Flow{Name: "postgres_exporter to PostgreSQL", Why: "the database's metrics as role monitoring", From: w("Deployment", "monitoring", "postgres-exporter"), To: addr(Database), Port: "5432"},
		Flow{Name: "monitoring role Job to PostgreSQL", Why: "creates the monitoring role as the master user", From: w("Job", "monitoring", "postgres-monitoring-user"), To: addr(Database), Port: "5432"},
		Flow{Name: "redis_exporter to Redis", Why: "the cache's metrics", From: w("Deployment", "monitoring", "redis-exporter"), To: addr(Cache), Port: "6379"},
		Flow{Name: "cloudwatch_exporter to AWS", Why: "CloudWatch and STS", From: w("Deployment", "monitoring", "cloudwatch-exporter"), To: addr(Internet), Port: "443"},
		Flow{Name: "Prometheus to blackbox_exporter", Why: "the Probe asks /probe for each public URL", From: prometheus, To: svc("monitoring", "blackbox-exporter"), Port: "metrics"},
		Flow{Name: "blackbox_exporter to the public hostnames", Why: "the probes go out through the NAT gateway to the internet-facing NLB, as users' requests come in", From: w("Deployment", "monitoring", "blackbox-exporter"), To: addr(Internet), Port: "443"},

		// Logging.
		Flow{Name: "ECK operator to Elasticsearch", Why: "ECK calls each node directly (its per-node-set headless Service)", From: eckOperator, To: svc("logging", "logs-es-default"), Port: "https"},
		Flow{Name: "Kibana to Elasticsearch", Why: "elasticsearch.hosts is https://logs-es-http.logging.svc:9200", From: kibana, To: svc("logging", "logs-es-http"), Port: "https"},
		Flow{Name: "Logstash to Elasticsearch", Why: "LOGS_ES_HOSTS is https://logs-es-http.logging.svc:9200", From: logstash, To: svc("logging", "logs-es-http"), Port: "https"},
		Flow{Name: "Elasticsearch transport", Why: "nodes form the cluster and replicate shards", From: es, To: svc("logging", "logs-es-transport"), Port: "tls-transport"},
		Flow{Name: "Filebeat to Logstash", Why: "the beats input at logs-ls-beats.logging.svc:5044", From: filebeat, To: svc("logging", "logs-ls-beats"), Port: "beats"},
		Flow{Name: "setup Job to Elasticsearch", Why: "ILM policy, index template, exporter role and user", From: w("Job", "logging", "logging-setup"), To: svc("logging", "logs-es-http"), Port: "https"},
		Flow{Name: "setup Job to Kibana", Why: "Kibana's data view", From: w("Job", "logging", "logging-setup"), To: svc("logging", "logs-kb-http"), Port: "https"},
		Flow{Name: "elasticsearch_exporter to Elasticsearch", Why: "cluster health and node stats", From: w("Deployment", "logging", "elasticsearch-exporter"), To: svc("logging", "logs-es-http"), Port: "https"},
		Flow{Name: "Logstash to GeoIP updates", Why: "the GeoIP filter's database from Elastic", From: logstash, To: addr(Internet), Port: "443"},

		// Backups.
		Flow{Name: "database-backup to PostgreSQL", Why: "pg_dump of the read replica (or the primary)", From: w("CronJob", appNS, "database-backup"), To: addr(Database), Port: "5432"},
		Flow{Name: "database-backup to S3", Why: "uploads the dump", From: w("CronJob", appNS, "database-backup"), To: addr(Internet), Port: "443"},
		Flow{Name: "app-backup to S3", Why: "copies the uploads bucket", From: w("CronJob", appNS, "app-backup"), To: addr(Internet), Port: "443"},
		Flow{Name: "restore-drill to S3", Why: "fetches the newest dump", From: w("CronJob", appNS, "restore-drill"), To: addr(Internet), Port: "443"},
		Flow{Name: "backup role Job to PostgreSQL", Why: "creates the read-only backup role", From: w("Job", appNS, "backup-db-user"), To: addr(Database), Port: "5432"},
	)

	forbidden = []Flow{
		{Name: "frontend to PostgreSQL", Why: "only the backend and its jobs hold database credentials", From: frontend, To: addr(Database), Port: "5432"},
		{Name: "frontend to Redis", Why: "the frontend serves static files", From: frontend, To: addr(Cache), Port: "6379"},
		{Name: "frontend to the internet", Why: "the frontend serves static files", From: frontend, To: addr(Internet), Port: "443"},
		{Name: "backend to the API server", Why: "the app has no business with the Kubernetes API (its HTTPS egress is for the internet)", From: backend, To: apiServer, Port: "https"},
		{Name: "backend to the control plane", Why: "nor with the control plane's interfaces", From: backend, To: addr(ControlPlane), Port: "443"},
		{Name: "backend to Elasticsearch", Why: "logs reach Elasticsearch through Filebeat and Logstash only", From: backend, To: svc("logging", "logs-es-http"), Port: "https"},
		{Name: "backend to Kibana", Why: "people reach Kibana by port-forward", From: backend, To: svc("logging", "logs-kb-http"), Port: "https"},
		{Name: "backend to Prometheus", Why: "Prometheus scrapes the backend, never the reverse", From: backend, To: svc("monitoring", "kps-prometheus"), Port: "http-web"},
		{Name: "backend to Grafana", Why: "people reach Grafana by port-forward", From: backend, To: svc("monitoring", "grafana"), Port: "http-web"},
		{Name: "platform pods to the cert-manager webhook", Why: "only the API server calls admission webhooks", From: everyPlatformPod, To: w("Deployment", "cert-manager", "cert-manager-webhook"), Port: "https"},
		{Name: "platform pods to the NGF control plane", Why: "only NGINX's agents fetch configuration", From: End{Pods: &PodSet{Namespaces: []string{appNS, "monitoring", "logging", "filebeat"}}}, To: ngf, Port: "agent-grpc"},
		{Name: "Kibana to the backend", Why: "logging never calls into the app", From: kibana, To: backend, Port: "http"},
		{Name: "Logstash to the backend", Why: "logging never calls into the app", From: logstash, To: backend, Port: "http"},
		{Name: "Filebeat to Elasticsearch", Why: "events pass through Logstash's redaction first", From: filebeat, To: svc("logging", "logs-es-http"), Port: "https"},
		{Name: "NGINX to PostgreSQL", Why: "the edge reaches the app, nothing behind it", From: nginx, To: addr(Database), Port: "5432"},
		{Name: "internet to the backend", Why: "clients pass through NGINX", From: addr(Internet), To: backend, Port: "http"},
		{Name: "internet to Grafana", Why: "monitoring has no public entry", From: addr(Internet), To: grafana, Port: "grafana"},
		{Name: "exporters to the app", Why: "exporters read their data stores, never the app", From: w("Deployment", "monitoring", "postgres-exporter"), To: backend, Port: "http"},
		{Name: "Alertmanager to the API server", Why: "its HTTPS egress is for the receivers", From: alertmanager, To: apiServer, Port: "https"},
		{Name: "cloudwatch_exporter to the API server", Why: "its HTTPS egress is for AWS", From: w("Deployment", "monitoring", "cloudwatch-exporter"), To: apiServer, Port: "https"},
		{Name: "blackbox_exporter to the API server", Why: "its HTTPS egress is for the public hostnames", From: w("Deployment", "monitoring", "blackbox-exporter"), To: apiServer, Port: "https"},
		{Name: "blackbox_exporter to PostgreSQL", Why: "it probes the public edge only", From: w("Deployment", "monitoring", "blackbox-exporter"), To: addr(Database), Port: "5432"},
		{Name: "blackbox_exporter to the backend directly", Why: "it probes through the edge, as users do", From: w("Deployment", "monitoring", "blackbox-exporter"), To: backend, Port: "http"},
		{Name: "Logstash to the API server", Why: "its HTTPS egress is for GeoIP updates", From: logstash, To: apiServer, Port: "https"},
		{Name: "database-backup to the API server", Why: "its HTTPS egress is for S3", From: w("CronJob", appNS, "database-backup"), To: apiServer, Port: "https"},
		{Name: "restore-drill to PostgreSQL", Why: "the drill restores into its own throwaway server, never the real database", From: w("CronJob", appNS, "restore-drill"), To: addr(Database), Port: "5432"},
	}
	return required, forbidden
}
