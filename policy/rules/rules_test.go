package rules

import (
	"encoding/json"
	"strings"
	"testing"
)

// m is shorthand for a property map.
type m = map[string]any

// l is shorthand for a property list.
type l = []any

func res(typ string, props m) Resource {
	return Resource{URN: "urn:pulumi:test::p::" + typ + "::thing", Type: typ, Name: "thing", Props: props}
}

func protected(r Resource) Resource { r.Protect = true; return r }

// filebeat is a Beat reading the node's logs through a hostPath.
func filebeat(namespace, name string) Resource {
	r := res("kubernetes:beat.k8s.elastic.co/v1beta1:Beat", m{"metadata": m{"name": name, "namespace": namespace}, "spec": m{"daemonSet": m{"podTemplate": m{"spec": m{
		"volumes": l{m{"name": "logs", "hostPath": m{"path": "/var/log/containers"}}},
	}}}}})
	r.Name = name
	return r
}

// nodeExporter is kube-prometheus-stack's node-exporter DaemonSet in a
// namespace.
func nodeExporter(namespace string) Resource {
	r := res("kubernetes:apps/v1:DaemonSet", m{"metadata": m{"name": "kube-prometheus-stack-prometheus-node-exporter", "namespace": namespace},
		"spec": m{"template": m{"spec": m{"hostNetwork": true, "hostPID": true, "containers": l{goodContainer()}}}}})
	r.Name = "kube-prometheus-stack-prometheus-node-exporter"
	return r
}

func withProviderTags(r Resource, tags m) Resource {
	r.ProviderProps = m{"defaultTags": m{"tags": tags}}
	return r
}

// goodContainer passes every container rule.
func goodContainer() m {
	return m{
		"name":  "app",
		"image": "ghcr.io/scrolluniversity/backend:1.2.3",
		"securityContext": m{
			"runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"capabilities": m{"drop": l{"ALL"}},
		},
		"resources":      m{"requests": m{"cpu": "100m", "memory": "128Mi"}, "limits": m{"cpu": "1", "memory": "512Mi"}},
		"livenessProbe":  m{"httpGet": m{"path": "/healthz", "port": 8080}},
		"readinessProbe": m{"httpGet": m{"path": "/ready", "port": 8080}},
	}
}

// deployment is a Deployment whose one container went through change.
func deployment(change func(c m, pod m)) Resource {
	c := goodContainer()
	pod := m{"metadata": m{"labels": m{"app": "x"}}, "spec": m{"containers": l{c}}}
	if change != nil {
		change(c, pod)
	}
	return res("kubernetes:apps/v1:Deployment", m{
		"metadata": m{"name": "backend", "namespace": "app"},
		"spec":     m{"replicas": int64(3), "selector": m{"matchLabels": m{"app": "x"}}, "template": pod},
	})
}

// chartContainer is a chart's workload of a kind in a namespace whose one
// container went through change.
func chartContainer(kind, namespace, name, container string, change func(c m)) Resource {
	c := goodContainer()
	c["name"] = container
	change(c)
	r := res("kubernetes:"+map[string]string{"Job": "batch/v1", "Deployment": "apps/v1"}[kind]+":"+kind, m{
		"metadata": m{"name": name, "namespace": namespace},
		"spec":     m{"template": m{"spec": m{"containers": l{c}}}},
	})
	r.Name = name
	return r
}

func policyJSON(action, resource string) string {
	b, _ := json.Marshal(m{"Version": "2012-10-17", "Statement": l{m{"Effect": "Allow", "Action": action, "Resource": resource}}})
	return string(b)
}

// resourceCases holds, for every resource rule, a resource that violates it
// (with a fragment its message must contain) and one that passes.
var resourceCases = map[string][]struct {
	name    string
	r       Resource
	cfg     map[string]any
	wantMsg string // "" means: must pass
}{
	"rds-storage-encrypted": {
		{"unencrypted", res(typeRDSInstance, m{"storageEncrypted": false}), nil, "set storageEncrypted: true"},
		{"encrypted", res(typeRDSInstance, m{"storageEncrypted": true}), nil, ""},
	},
	"rds-not-public": {
		{"public", res(typeRDSInstance, m{"publiclyAccessible": true}), nil, "set publiclyAccessible: false"},
		{"private", res(typeRDSInstance, m{"publiclyAccessible": false}), nil, ""},
	},
	"rds-deletion-protection": {
		{"production without", res(typeRDSInstance, m{"deletionProtection": false}), m{"productionLike": true}, "set deletionProtection: true"},
		{"production with", res(typeRDSInstance, m{"deletionProtection": true}), m{"productionLike": true}, ""},
		{"staging without", res(typeRDSInstance, m{"deletionProtection": false}), nil, ""},
	},
	"rds-backup-retention": {
		{"production 3 days", res(typeRDSInstance, m{"backupRetentionPeriod": int64(3)}), m{"productionLike": true}, "at least 7"},
		{"backups off", res(typeRDSInstance, m{"backupRetentionPeriod": int64(0)}), nil, "at least 1"},
		{"production 14 days", res(typeRDSInstance, m{"backupRetentionPeriod": int64(14)}), m{"productionLike": true}, ""},
		{"replica", res(typeRDSInstance, m{"replicateSourceDb": "primary"}), m{"productionLike": true}, ""},
	},
	"rds-tls-required": {
		{"parameter group without force_ssl", res(typeRDSParams, m{"family": "postgres15", "parameters": l{m{"name": "rds.force_ssl", "value": "0"}}}), nil, "rds.force_ssl = 1"},
		{"instance on the default group", res(typeRDSInstance, m{"engine": "postgres", "parameterGroupName": "default.postgres15"}), nil, "default parameter group"},
		{"parameter group with force_ssl", res(typeRDSParams, m{"family": "postgres15", "parameters": l{m{"name": "rds.force_ssl", "value": "1"}}}), nil, ""},
		{"instance on its own group", res(typeRDSInstance, m{"engine": "postgres", "parameterGroupName": "su-postgres"}), nil, ""},
	},
	"elasticache-encrypted": {
		{"plaintext", res(typeRedisGroup, m{"transitEncryptionEnabled": false, "atRestEncryptionEnabled": true, "authToken": "x"}), nil, "transitEncryptionEnabled: true"},
		{"no auth", res(typeRedisGroup, m{"transitEncryptionEnabled": true, "atRestEncryptionEnabled": true}), nil, "set authToken"},
		{"at rest off", res(typeRedisGroup, m{"transitEncryptionEnabled": true, "atRestEncryptionEnabled": false, "authToken": "x"}), nil, "atRestEncryptionEnabled: true"},
		{"all on", res(typeRedisGroup, m{"transitEncryptionEnabled": true, "atRestEncryptionEnabled": true, "authToken": "x"}), nil, ""},
	},
	"kms-key-rotation": {
		{"no rotation", res(typeKMSKey, m{"enableKeyRotation": false}), nil, "enableKeyRotation: true"},
		{"rotation", res(typeKMSKey, m{"enableKeyRotation": true}), nil, ""},
		{"asymmetric key", res(typeKMSKey, m{"customerMasterKeySpec": "RSA_2048"}), nil, ""},
	},
	"eks-secrets-encryption": {
		{"none", res(typeEKSCluster, m{}), nil, "encryptionConfig"},
		{"secrets with a key", res(typeEKSCluster, m{"encryptionConfig": m{"resources": l{"secrets"}, "provider": m{"keyArn": "arn:aws:kms:x"}}}), nil, ""},
	},
	"eks-control-plane-logging": {
		{"no audit", res(typeEKSCluster, m{"enabledClusterLogTypes": l{"api"}}), nil, "audit, authenticator"},
		{"all", res(typeEKSCluster, m{"enabledClusterLogTypes": l{"api", "audit", "authenticator", "scheduler"}}), nil, ""},
	},
	"cloudtrail-trail-hardened": {
		{"one region, no validation, no key", res(typeTrail, m{"s3BucketName": "b"}), nil, "isMultiRegionTrail: true (a trail of one region misses what is done elsewhere); enableLogFileValidation: true (digest files prove a log file unchanged); kmsKeyId"},
		{"stopped, no global events", res(typeTrail, m{"isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:aws:kms:x", "enableLogging": false, "includeGlobalServiceEvents": false}), nil, "includeGlobalServiceEvents: true (IAM and STS are global); enableLogging: true"},
		{"data events only", res(typeTrail, m{"isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:aws:kms:x", "advancedEventSelectors": l{
			m{"fieldSelectors": l{m{"field": "eventCategory", "equals": l{"Data"}}, m{"field": "resources.type", "equals": l{"AWS::S3::Object"}}}},
		}}), nil, "a selector of the management events"},
		{"basic selector without management events", res(typeTrail, m{"isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:aws:kms:x", "eventSelectors": l{m{"includeManagementEvents": false}}}), nil, "a selector of the management events"},
		{"hardened, management and data events", res(typeTrail, m{"isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:aws:kms:x", "includeGlobalServiceEvents": true, "enableLogging": true, "advancedEventSelectors": l{
			m{"fieldSelectors": l{m{"field": "eventCategory", "equals": l{"Management"}}}},
			m{"fieldSelectors": l{m{"field": "eventCategory", "equals": l{"Data"}}}},
		}}), nil, ""},
		{"hardened, default selectors", res(typeTrail, m{"isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:aws:kms:x"}), nil, ""},
	},
	"cloudfront-distribution-protected": {
		{"no WAF, default certificate, plain HTTP", res(typeDistribution, m{
			"viewerCertificate":    m{"cloudfrontDefaultCertificate": true},
			"defaultCacheBehavior": m{"viewerProtocolPolicy": "allow-all"},
		}), nil, "webAclId: a WAF web ACL (CLOUDFRONT scope); viewerCertificate: a certificate of its own"},
		{"old TLS by dedicated IP", res(typeDistribution, m{
			"webAclId":             "arn:aws:wafv2:us-east-1:1:global/webacl/a/b",
			"viewerCertificate":    m{"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c", "minimumProtocolVersion": "TLSv1_2016", "sslSupportMethod": "vip"},
			"defaultCacheBehavior": m{"viewerProtocolPolicy": "redirect-to-https"},
		}), nil, `minimumProtocolVersion TLSv1.2_2021 or later (got "TLSv1_2016"); viewerCertificate.sslSupportMethod sni-only (got "vip"`},
		{"a path other than ACME's over HTTP", res(typeDistribution, m{
			"webAclId":              "arn:aws:wafv2:us-east-1:1:global/webacl/a/b",
			"viewerCertificate":     m{"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c", "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"},
			"defaultCacheBehavior":  m{"viewerProtocolPolicy": "redirect-to-https"},
			"orderedCacheBehaviors": l{m{"pathPattern": "/.well-known/*", "viewerProtocolPolicy": "allow-all"}},
		}), nil, `viewerProtocolPolicy redirect-to-https on /.well-known/* (got "allow-all")`},
		{"an API over plain HTTP to its origin, an origin offering TLS 1.0", res(typeDistribution, m{
			"webAclId":          "arn:aws:wafv2:us-east-1:1:global/webacl/a/b",
			"viewerCertificate": m{"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c", "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"},
			"origins": l{
				m{"originId": "tls", "customOriginConfig": m{"originProtocolPolicy": "https-only", "originSslProtocols": l{"TLSv1", "TLSv1.2"}}},
				m{"originId": "plain", "customOriginConfig": m{"originProtocolPolicy": "http-only", "originSslProtocols": l{"TLSv1.2"}}},
			},
			"defaultCacheBehavior":  m{"viewerProtocolPolicy": "redirect-to-https", "targetOriginId": "tls"},
			"orderedCacheBehaviors": l{m{"pathPattern": "/api*", "viewerProtocolPolicy": "https-only", "targetOriginId": "plain"}},
		}), nil, "origin tls: originSslProtocols TLSv1.2 only (offers TLSv1); HTTPS to origin plain on /api*"},
		{"protected, ACME's challenges over HTTP", res(typeDistribution, m{
			"webAclId":             "arn:aws:wafv2:us-east-1:1:global/webacl/a/b",
			"viewerCertificate":    m{"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c", "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"},
			"defaultCacheBehavior": m{"viewerProtocolPolicy": "redirect-to-https"},
			"origins": l{
				m{"originId": "gateway", "customOriginConfig": m{"originProtocolPolicy": "https-only", "originSslProtocols": l{"TLSv1.2"}}},
				m{"originId": "gateway-http", "customOriginConfig": m{"originProtocolPolicy": "http-only", "originSslProtocols": l{"TLSv1.2"}}},
			},
			"orderedCacheBehaviors": l{
				m{"pathPattern": "/.well-known/acme-challenge/*", "viewerProtocolPolicy": "allow-all", "targetOriginId": "gateway-http"},
				m{"pathPattern": "/api*", "viewerProtocolPolicy": "https-only", "targetOriginId": "gateway"},
			},
		}), nil, ""},
	},
	"eks-public-endpoint-restricted": {
		{"open to the world", res(typeEKSCluster, m{"vpcConfig": m{"endpointPublicAccess": true, "publicAccessCidrs": l{"0.0.0.0/0"}}}), nil, "open to the internet"},
		{"default public, no CIDRs", res(typeEKSCluster, m{"vpcConfig": m{}}), nil, "open to the internet"},
		{"listed CIDRs", res(typeEKSCluster, m{"vpcConfig": m{"endpointPublicAccess": true, "publicAccessCidrs": l{"203.0.113.0/24"}}}), nil, ""},
		{"private only", res(typeEKSCluster, m{"vpcConfig": m{"endpointPublicAccess": false}}), nil, ""},
	},
	"security-group-no-open-ingress": {
		{"SSH from anywhere", res(typeSecurityGroup, m{"ingress": l{m{"cidrBlocks": l{"0.0.0.0/0"}, "fromPort": int64(22), "toPort": int64(22)}}}), nil, "admits the internet"},
		{"443 on a non-LB group", res(typeSecurityGroup, m{"ingress": l{m{"cidrBlocks": l{"0.0.0.0/0"}, "fromPort": int64(443), "toPort": int64(443)}}}), nil, "admits the internet"},
		{"IPv6 rule", res(typeSGIngressRule, m{"cidrIpv6": "::/0", "fromPort": int64(5432), "toPort": int64(5432)}), nil, "admits the internet"},
		{"open rule resource", res(typeSGRule, m{"type": "ingress", "cidrBlocks": l{"0.0.0.0/0"}, "fromPort": int64(443), "toPort": int64(443)}), nil, "admits the internet"},
		{"443 on a load balancer's group", res(typeSecurityGroup, m{"tags": m{"scrolluniversity.io/load-balancer": "true"}, "ingress": l{m{"cidrBlocks": l{"0.0.0.0/0"}, "fromPort": int64(443), "toPort": int64(443)}}}), nil, ""},
		{"from a security group", res(typeSGIngressRule, m{"referencedSecurityGroupId": "sg-1", "fromPort": int64(5432), "toPort": int64(5432)}), nil, ""},
	},
	"iam-no-admin-wildcard": {
		{"admin", res("aws:iam/rolePolicy:RolePolicy", m{"policy": policyJSON("*", "*")}), nil, `allows "*" on "*"`},
		{"scoped", res("aws:iam/rolePolicy:RolePolicy", m{"policy": policyJSON("s3:GetObject", "arn:aws:s3:::b/*")}), nil, ""},
		{"star action on one bucket", res("aws:iam/policy:Policy", m{"policy": policyJSON("*", "arn:aws:s3:::b")}), nil, ""},
	},
	"aws-required-tags": {
		{"no tags anywhere", res("aws:ec2/vpc:Vpc", m{}), nil, "lacks tags Project, Environment, ManagedBy"},
		{"provider tags", withProviderTags(res("aws:ec2/vpc:Vpc", m{}), m{"Project": "p", "Environment": "e", "ManagedBy": "pulumi"}), nil, ""},
		{"own tags", res("aws:ec2/vpc:Vpc", m{"tags": m{"Project": "p", "Environment": "e", "ManagedBy": "pulumi"}}), nil, ""},
		{"untaggable type", res("aws:iam/rolePolicy:RolePolicy", m{}), nil, ""},
	},
	"ec2-imdsv2-required": {
		{"optional tokens", res(typeLaunchTemplate, m{"metadataOptions": m{"httpTokens": "optional"}}), nil, "httpTokens: required"},
		{"required tokens", res(typeLaunchTemplate, m{"metadataOptions": m{"httpTokens": "required"}}), nil, ""},
	},
	"aws-allowed-instance-families": {
		{"previous-generation nodes", res("aws:eks/nodeGroup:NodeGroup", m{"instanceTypes": l{"m6i.large", "m4.large"}}), nil, "uses m4.large"},
		{"old database class", res(typeRDSInstance, m{"instanceClass": "db.r4.large"}), nil, "uses db.r4.large"},
		{"family not in the team's list", res(typeRedisGroup, m{"nodeType": "cache.r7g.large"}), m{"allowedFamilies": l{"r6g"}}, "uses cache.r7g.large"},
		{"current nodes", res("aws:eks/nodeGroup:NodeGroup", m{"instanceTypes": l{"m6i.large", "m6a.large"}}), nil, ""},
		{"current cache", res(typeRedisGroup, m{"nodeType": "cache.r7g.large"}), nil, ""},
	},
	"log-group-retention-and-encryption": {
		{"forever, unencrypted", res(typeLogGroup, m{}), nil, "set retentionInDays"},
		{"expiring, encrypted", res(typeLogGroup, m{"retentionInDays": int64(30), "kmsKeyId": "arn:aws:kms:x"}), nil, ""},
	},
	"s3-no-public-access": {
		{"public policies allowed", res(typePublicBlock, m{"blockPublicAcls": true, "blockPublicPolicy": false, "ignorePublicAcls": true, "restrictPublicBuckets": true}), nil, "blockPublicPolicy"},
		{"public-read ACL", res(typeBucket, m{"acl": "public-read"}), nil, "public-read"},
		{"all blocked", res(typePublicBlock, m{"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}), nil, ""},
	},
	"k8s-run-as-non-root": {
		{"root allowed", deployment(func(c, _ m) { delete(c["securityContext"].(m), "runAsNonRoot") }), nil, "runAsNonRoot: true"},
		{"container says non-root", deployment(nil), nil, ""},
		{"pod says non-root", deployment(func(c, pod m) {
			delete(c["securityContext"].(m), "runAsNonRoot")
			pod["spec"].(m)["securityContext"] = m{"runAsNonRoot": true}
		}), nil, ""},
	},
	"k8s-no-privileged": {
		{"privileged", deployment(func(c, _ m) { c["securityContext"].(m)["privileged"] = true }), nil, "is privileged"},
		{"unprivileged", deployment(nil), nil, ""},
	},
	"k8s-no-privilege-escalation": {
		{"unset", deployment(func(c, _ m) { delete(c["securityContext"].(m), "allowPrivilegeEscalation") }), nil, "allowPrivilegeEscalation: false"},
		{"false", deployment(nil), nil, ""},
	},
	"k8s-drop-capabilities": {
		{"keeps NET_RAW", deployment(func(c, _ m) { c["securityContext"].(m)["capabilities"] = m{"drop": l{"NET_RAW"}} }), nil, "drop: [ALL]"},
		{"drops all", deployment(nil), nil, ""},
	},
	"k8s-read-only-root-filesystem": {
		{"writable", deployment(func(c, _ m) { c["securityContext"].(m)["readOnlyRootFilesystem"] = false }), nil, "readOnlyRootFilesystem: true"},
		{"writable with a reason", deployment(func(c, pod m) {
			c["securityContext"].(m)["readOnlyRootFilesystem"] = false
			pod["metadata"].(m)["annotations"] = m{WritableRootAnnotation: "writes its cache to /var/lib/x"}
		}), nil, ""},
		{"read-only", deployment(nil), nil, ""},
	},
	"k8s-resources": {
		{"no limits", deployment(func(c, _ m) { delete(c["resources"].(m), "limits") }), nil, "limits.cpu, limits.memory"},
		{"requests and limits", deployment(nil), nil, ""},
		{"the chart Job the pack accepts", chartContainer("Job", "nginx-gateway", "nginx-gateway-fabric-cert-generator", "cert-generator", func(c m) { delete(c, "resources") }), nil, ""},
		{"the same Job's container under another name", chartContainer("Job", "nginx-gateway", "nginx-gateway-fabric-cert-generator", "other", func(c m) { delete(c, "resources") }), nil, "container other of Job nginx-gateway-fabric-cert-generator has no requests.cpu"},
	},
	"k8s-probes": {
		{"no readiness", deployment(func(c, _ m) { delete(c, "readinessProbe") }), nil, "no readinessProbe"},
		{"a chart container the pack accepts", chartContainer("Deployment", "cert-manager", "cert-manager", "cert-manager-controller", func(c m) { delete(c, "readinessProbe") }), nil, ""},
		{"the same container in another namespace", chartContainer("Deployment", "apps", "cert-manager", "cert-manager-controller", func(c m) { delete(c, "readinessProbe") }), nil, "container cert-manager-controller of Deployment cert-manager has no readinessProbe"},
		{"exceptions emptied by the knob", chartContainer("Deployment", "cert-manager", "cert-manager", "cert-manager-controller", func(c m) { delete(c, "readinessProbe") }), m{"exceptions": l{}}, "no readinessProbe"},
		{"both", deployment(nil), nil, ""},
		{"a Job needs none", res("kubernetes:batch/v1:Job", m{"spec": m{"template": m{"spec": m{"containers": l{m{"name": "migrate", "image": "x:1", "securityContext": goodContainer()["securityContext"]}}}}}}), nil, ""},
	},
	"k8s-image-pinned": {
		{"latest", deployment(func(c, _ m) { c["image"] = "ghcr.io/scrolluniversity/backend:latest" }), nil, "pin a release tag"},
		{"untagged", deployment(func(c, _ m) { c["image"] = "nginx" }), nil, "pin a release tag"},
		{"registry port is not a tag", deployment(func(c, _ m) { c["image"] = "registry:5000/app" }), nil, "pin a release tag"},
		{"tag", deployment(nil), nil, ""},
		{"digest", deployment(func(c, _ m) { c["image"] = "ghcr.io/x/y@sha256:" + strings.Repeat("a", 64) }), nil, ""},
	},
	"k8s-no-host-access": {
		{"host network", deployment(func(_, pod m) { pod["spec"].(m)["hostNetwork"] = true }), nil, "sets hostNetwork"},
		{"Filebeat's spec in another namespace", filebeat("logging", "filebeat"), nil, "mounts hostPath volume logs"},
		{"Filebeat's spec under another name", filebeat("filebeat", "shipper"), nil, "mounts hostPath volume logs"},
		{"hostPath in an Elasticsearch node set", res("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", m{"metadata": m{"name": "thing", "namespace": "logging"}, "spec": m{"nodeSets": l{m{"podTemplate": m{"spec": m{"volumes": l{m{"name": "logs", "hostPath": m{"path": "/var/log"}}}}}}}}}), nil, "hostPath volume logs"},
		{"the Filebeat the pack allows", filebeat("filebeat", "filebeat"), nil, ""},
		{"the chart's node-exporter the pack allows", nodeExporter("node-exporter"), nil, ""},
		{"node-exporter in the monitoring namespace", nodeExporter("monitoring"), nil, "sets hostNetwork"},
		{"hostPath", deployment(func(_, pod m) { pod["spec"].(m)["volumes"] = l{m{"name": "docker", "hostPath": m{"path": "/var/run"}}} }), nil, "hostPath volume docker"},
		{"none", deployment(nil), nil, ""},
	},
	"k8s-configmap-no-secrets": {
		{"password", res("kubernetes:core/v1:ConfigMap", m{"data": m{"DB_PASSWORD": "x"}}), nil, "key DB_PASSWORD"},
		{"api key", res("kubernetes:core/v1:ConfigMap", m{"data": m{"OPENAI_API_KEY": "x"}}), nil, "key OPENAI_API_KEY"},
		{"plain settings", res("kubernetes:core/v1:ConfigMap", m{"data": m{"LOG_LEVEL": "info", "MONKEY_MODE": "off"}}), nil, ""},
	},
	"k8s-load-balancer-services": {
		{"app LoadBalancer", res("kubernetes:core/v1:Service", m{"metadata": m{"namespace": "app"}, "spec": m{"type": "LoadBalancer"}}), nil, "expose it through the Gateway"},
		{"gateway LoadBalancer", res("kubernetes:core/v1:Service", m{"metadata": m{"namespace": "nginx-gateway"}, "spec": m{"type": "LoadBalancer"}}), nil, ""},
		{"ClusterIP", res("kubernetes:core/v1:Service", m{"metadata": m{"namespace": "app"}, "spec": m{"type": "ClusterIP"}}), nil, ""},
	},
	"prometheus-alerts-documented": {
		{"no runbook", res(typePrometheusRule, m{"spec": m{"groups": l{m{"name": "g", "rules": l{m{"alert": "A", "labels": m{"severity": "warning"}, "annotations": m{"summary": "s", "description": "d"}}}}}}}), nil, "alert A has no runbook_url"},
		{"unrouted severity", res(typePrometheusRule, m{"spec": m{"groups": l{m{"name": "g", "rules": l{m{"alert": "A", "labels": m{"severity": "page"}, "annotations": m{"summary": "s", "description": "d", "runbook_url": "u"}}}}}}}), nil, `severity "page"`},
		{"documented, and a recording rule", res(typePrometheusRule, m{"spec": m{"groups": l{m{"name": "g", "rules": l{
			m{"alert": "A", "labels": m{"severity": "critical"}, "annotations": m{"summary": "s", "description": "d", "runbook_url": "u"}},
			m{"record": "x:y", "expr": "vector(1)"},
		}}}}}), nil, ""},
	},
	"k8s-cronjob-bounded": {
		{"no deadlines", res(typeCronJob, m{"spec": m{"concurrencyPolicy": "Allow", "jobTemplate": m{"spec": m{}}}}), nil, "concurrencyPolicy: Forbid, startingDeadlineSeconds"},
		{"bounded", res(typeCronJob, m{"spec": m{"concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 600, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
			"jobTemplate": m{"spec": m{"activeDeadlineSeconds": 3600}}}}), nil, ""},
	},
	"backup-bucket-locked": {
		{"production backups unlocked", res(typeBucket, m{"tags": m{BackupPurposeTag: "backups"}, "objectLockEnabled": false}), m{"productionLike": true}, "no Object Lock"},
		{"production backups locked", res(typeBucket, m{"tags": m{BackupPurposeTag: "backups"}, "objectLockEnabled": true}), m{"productionLike": true}, ""},
		{"another bucket", res(typeBucket, m{"objectLockEnabled": false}), m{"productionLike": true}, ""},
		{"staging", res(typeBucket, m{"tags": m{BackupPurposeTag: "backups"}}), nil, ""},
	},
	"stateful-resources-protected": {
		{"unprotected database", res(typeRDSInstance, m{}), m{"productionLike": true}, "not protected"},
		{"StatefulSet deleting volumes", res(typeStatefulSet, m{"spec": m{"volumeClaimTemplates": l{m{}}, "persistentVolumeClaimRetentionPolicy": m{"whenDeleted": "Delete"}}}), m{"productionLike": true}, "whenDeleted: Retain"},
		{"protected database", protected(res(typeRDSInstance, m{})), m{"productionLike": true}, ""},
		{"staging", res(typeRedisGroup, m{}), nil, ""},
	},
}

func TestResourceRules(t *testing.T) {
	for _, rule := range ResourceRules() {
		cases, ok := resourceCases[rule.Name]
		if !ok {
			t.Errorf("policy %s has no test cases", rule.Name)
			continue
		}
		violates, passes := false, false
		for _, tc := range cases {
			t.Run(rule.Name+"/"+tc.name, func(t *testing.T) {
				msgs := rule.Check(tc.r, rule.Configure(tc.cfg))
				if tc.wantMsg == "" {
					passes = true
					if len(msgs) != 0 {
						t.Errorf("want no violation, got %q", msgs)
					}
					return
				}
				violates = true
				if len(msgs) == 0 {
					t.Fatalf("want a violation mentioning %q, got none", tc.wantMsg)
				}
				joined := strings.Join(msgs, "\n")
				if !strings.Contains(joined, tc.wantMsg) || !strings.Contains(joined, "thing") && !strings.Contains(joined, "backend") && !strings.Contains(joined, tc.r.Name) {
					t.Errorf("want a message naming the resource and %q, got %q", tc.wantMsg, joined)
				}
			})
		}
		if !violates || !passes {
			t.Errorf("policy %s: want at least one violating and one passing case", rule.Name)
		}
	}
}

func TestStackRules(t *testing.T) {
	hpa := func(target string) Resource {
		r := res(typeHPA, m{"metadata": m{"name": target, "namespace": "app"}, "spec": m{"scaleTargetRef": m{"kind": "Deployment", "name": target}}})
		r.URN += "-hpa"
		return r
	}
	pdb := func(labels m) Resource {
		return res(typePDB, m{"metadata": m{"namespace": "app"}, "spec": m{"selector": m{"matchLabels": labels}}})
	}
	namespace := res(typeNamespace, m{"metadata": m{"name": "app"}})
	denyAll := res(typeNetPolicy, m{"metadata": m{"namespace": "app"}, "spec": m{"podSelector": m{}, "policyTypes": l{"Ingress", "Egress"}}})
	allowSome := res(typeNetPolicy, m{"metadata": m{"namespace": "app"}, "spec": m{"podSelector": m{}, "policyTypes": l{"Ingress", "Egress"}, "ingress": l{m{}}}})
	bucket := Resource{URN: "urn:bucket", Type: typeBucket, Name: "uploads"}
	companion := func(typ string, props m) Resource {
		return Resource{URN: "urn:" + typ, Type: typ, Dependencies: []string{"urn:bucket"}, Props: props}
	}
	monitor := func(annotations m) Resource {
		meta := m{"name": "backend", "namespace": "monitoring"}
		if annotations != nil {
			meta["annotations"] = annotations
		}
		r := res(typeServiceMonitor, m{"metadata": meta, "spec": m{
			"selector": m{"matchLabels": m{"app": "backend"}}, "namespaceSelector": m{"matchNames": l{"app"}}, "endpoints": l{m{"port": "metrics"}},
		}})
		r.URN += "-monitor"
		return r
	}
	service := func(ports l) Resource {
		return res(typeService, m{"metadata": m{"name": "backend", "namespace": "app", "labels": m{"app": "backend", "tier": "api"}}, "spec": m{"ports": ports}})
	}
	backupBucket := Resource{URN: "urn:backups", Type: typeBucket, Name: "backups", Props: m{"tags": m{BackupPurposeTag: "backups"}}}
	companionOf := func(urn, typ string, props m) Resource {
		return Resource{URN: "urn:" + typ, Type: typ, Dependencies: []string{urn}, Props: props}
	}
	guards := []Resource{
		bucket,
		companion(typePublicBlock, m{}),
		companion(typeSSE, m{}),
		companion(typeVersioning, m{"versioningConfiguration": m{"status": "Enabled"}}),
		companion(typeBucketPol, m{"policy": `{"Statement":[{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`}),
	}

	cases := map[string][]struct {
		name    string
		all     []Resource
		wantMsg string
	}{
		"k8s-pdb-for-replicated": {
			{"no PDB", []Resource{deployment(nil)}, "no PodDisruptionBudget"},
			{"PDB selecting other pods", []Resource{deployment(nil), pdb(m{"app": "y"})}, "no PodDisruptionBudget"},
			{"one replica but an HPA", []Resource{deployment(func(_, _ m) {}), hpa("backend")}, "no PodDisruptionBudget"},
			{"matching PDB", []Resource{deployment(nil), pdb(m{"app": "x"})}, ""},
		},
		"k8s-hpa-target-exists": {
			{"missing target", []Resource{hpa("frontend")}, "targets Deployment/app/frontend"},
			{"existing target", []Resource{deployment(nil), hpa("backend")}, ""},
		},
		"k8s-namespace-default-deny": {
			{"no policy", []Resource{namespace}, "no default-deny NetworkPolicy"},
			{"a policy that allows", []Resource{namespace, allowSome}, "no default-deny NetworkPolicy"},
			{"default deny", []Resource{namespace, denyAll}, ""},
		},
		"servicemonitor-selects-service": {
			{"no Service", []Resource{monitor(nil)}, "selects no Service in [app] with port [metrics]"},
			{"Service without the port", []Resource{monitor(nil), service(l{m{"name": "http"}})}, "selects no Service"},
			{"Service in another namespace", []Resource{monitor(nil), func() Resource {
				s := service(l{m{"name": "metrics"}})
				s.Props["metadata"].(m)["namespace"] = "other"
				return s
			}()}, "selects no Service"},
			{"chart release missing", []Resource{monitor(m{ServiceFromReleaseAnnotation: "cert-manager/cert-manager"})}, "Helm release cert-manager/cert-manager"},
			{"Service with the port", []Resource{monitor(nil), service(l{m{"name": "http"}, m{"name": "metrics"}})}, ""},
			{"chart release present", []Resource{monitor(m{ServiceFromReleaseAnnotation: "cert-manager/cert-manager"}), res(typeHelmRelease, m{"name": "cert-manager", "namespace": "cert-manager"})}, ""},
		},
		"backup-bucket-expires": {
			{"no lifecycle", []Resource{backupBucket}, "no lifecycle rule expiring a prefix"},
			{"a lifecycle without expiry", []Resource{backupBucket, companionOf("urn:backups", typeLifecycle, m{"rules": l{m{"filter": m{"prefix": ""}, "noncurrentVersionExpiration": m{"noncurrentDays": 7}}}})}, "no lifecycle rule"},
			{"expiring by prefix", []Resource{backupBucket, companionOf("urn:backups", typeLifecycle, m{"rules": l{m{"filter": m{"prefix": "database/"}, "expiration": m{"days": 90}}}})}, ""},
			{"a bucket that is not for backups", []Resource{bucket}, ""},
		},
		"s3-bucket-guarded": {
			{"bare bucket", []Resource{bucket}, "public access block server-side encryption versioning TLS-only policy"},
			{"versioning suspended", append(append([]Resource{}, guards[:3]...), companion(typeVersioning, m{"versioningConfiguration": m{"status": "Suspended"}}), guards[4]), "[versioning]"},
			{"guarded", guards, ""},
		},
	}
	for _, rule := range StackRules() {
		rc, ok := cases[rule.Name]
		if !ok {
			t.Errorf("stack policy %s has no test cases", rule.Name)
			continue
		}
		for _, tc := range rc {
			t.Run(rule.Name+"/"+tc.name, func(t *testing.T) {
				fs := rule.Check(tc.all, rule.Configure(nil))
				if tc.wantMsg == "" {
					if len(fs) != 0 {
						t.Errorf("want no finding, got %+v", fs)
					}
					return
				}
				if len(fs) == 0 || !strings.Contains(fs[0].Message, tc.wantMsg) || fs[0].URN == "" {
					t.Errorf("want a finding with a URN mentioning %q, got %+v", tc.wantMsg, fs)
				}
			})
		}
	}
}

func TestPackConfig(t *testing.T) {
	unencrypted := withProviderTags(res(typeRDSInstance, m{"storageEncrypted": false, "deletionProtection": false, "backupRetentionPeriod": int64(3)}),
		m{"Project": "p", "Environment": "e", "ManagedBy": "pulumi"})
	cases := []struct {
		name   string
		config string
		want   map[string]Level // policy -> level of its violation; absent: none
	}{
		{"defaults", `{}`, map[string]Level{"rds-storage-encrypted": Mandatory}},
		{"production-like", `{"rds-deletion-protection": {"productionLike": true}, "rds-backup-retention": {"productionLike": true}}`,
			map[string]Level{"rds-storage-encrypted": Mandatory, "rds-deletion-protection": Mandatory, "rds-backup-retention": Mandatory}},
		{"level override", `{"rds-storage-encrypted": "advisory"}`, map[string]Level{"rds-storage-encrypted": Advisory}},
		{"disabled", `{"rds-storage-encrypted": {"enforcementLevel": "disabled"}}`, map[string]Level{}},
		{"all advisory", `{"all": "advisory"}`, map[string]Level{"rds-storage-encrypted": Advisory}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pc PackConfig
			if err := json.Unmarshal([]byte(tc.config), &pc); err != nil {
				t.Fatal(err)
			}
			vs, err := Evaluate([]Resource{unencrypted}, pc)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Level{}
			for _, v := range vs {
				got[v.Policy] = v.Level
			}
			if len(got) != len(tc.want) {
				t.Errorf("want %v, got %v", tc.want, got)
			}
			for p, l := range tc.want {
				if got[p] != l {
					t.Errorf("%s: want %s, got %q", p, l, got[p])
				}
			}
		})
	}
	if _, err := Evaluate(nil, PackConfig{"all": json.RawMessage(`"sometimes"`)}); err == nil {
		t.Errorf("an unknown enforcement level must be an error")
	}
}

func TestSecretLikeKey(t *testing.T) {
	for key, want := range map[string]bool{
		"DB_PASSWORD": true, "JWT_SECRET": true, "GITHUB_TOKEN": true, "STRIPE_KEY": true, "api.key": true, "SENTRY_DSN": true,
		"LOG_LEVEL": false, "MONKEY": false, "KEYCLOAK_URL": false, "TOKENIZER_MODEL": false, "PORT": false,
	} {
		if got := SecretLikeKey(key); got != want {
			t.Errorf("SecretLikeKey(%q): want %v, got %v", key, want, got)
		}
	}
}

func TestEveryPolicyIsDescribed(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Policies() {
		if p.Name == "" || p.Description == "" || (p.Level != Mandatory && p.Level != Advisory) {
			t.Errorf("policy %+v: want a name, a description and a level", p)
		}
		if seen[p.Name] {
			t.Errorf("policy %s listed twice", p.Name)
		}
		seen[p.Name] = true
	}
	if len(seen) < 25 {
		t.Errorf("want the full policy set, got %d policies", len(seen))
	}
}

// Every policy names the types it judges, and judges only types it can
// find: a typo in the table would count nothing.
func TestEveryPolicyJudgesSomething(t *testing.T) {
	var names []string
	for _, r := range ResourceRules() {
		names = append(names, r.Name)
	}
	for _, r := range StackRules() {
		names = append(names, r.Name)
	}
	for _, n := range names {
		if len(judges[n]) == 0 {
			t.Errorf("policy %s: no entry in judges", n)
		}
	}
	if len(judges) != len(names) {
		t.Errorf("judges has %d entries for %d policies", len(judges), len(names))
	}
	if !Judges("aws-required-tags", typeBucket) || Judges("kms-key-rotation", typeBucket) || !Judges("k8s-probes", typeDeployment) {
		t.Errorf("Judges: type and prefix matching is off")
	}
}

func TestRunCountsWhatEachPolicyJudged(t *testing.T) {
	res := []Resource{
		{URN: "a", Type: typeKMSKey, Props: map[string]any{"enableKeyRotation": false}},
		{URN: "b", Type: typeKMSKey, Props: map[string]any{"enableKeyRotation": true}},
		{URN: "c", Type: typeBucket, Props: map[string]any{}},
	}
	rep, err := Run(res, PackConfig{"s3-bucket-guarded": []byte(`"disabled"`)})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]PolicyRun{}
	for _, p := range rep.Policies {
		byName[p.Policy] = p
	}
	if got := byName["kms-key-rotation"]; got.Judged != 2 || got.Violations != 1 || got.Level != Mandatory {
		t.Errorf("kms-key-rotation: want 2 judged, 1 violation, mandatory; got %+v", got)
	}
	if got := byName["s3-bucket-guarded"]; got.Judged != 0 || got.Level != Disabled {
		t.Errorf("a disabled policy judges nothing: got %+v", got)
	}
	if len(rep.Policies) != len(judges) {
		t.Errorf("want every policy in the report, got %d of %d", len(rep.Policies), len(judges))
	}
}

// A copy shares no map or list with its original.
func TestCopyIsDeep(t *testing.T) {
	orig := map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": 80}}}}
	c := Copy(orig).(map[string]any)
	Get(c, "spec").(map[string]any)["ports"].([]any)[0].(map[string]any)["port"] = 81
	if got := List(Get(orig, "spec", "ports"))[0].(map[string]any)["port"]; got != 80 {
		t.Errorf("changing the copy changed the original: port %v", got)
	}
}
