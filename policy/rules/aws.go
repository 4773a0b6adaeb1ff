package rules

import (
	"encoding/json"
	"fmt"
	"strings"
)

const (
	typeRDSInstance    = "aws:rds/instance:Instance"
	typeRDSParams      = "aws:rds/parameterGroup:ParameterGroup"
	typeRedisGroup     = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeKMSKey         = "aws:kms/key:Key"
	typeEKSCluster     = "aws:eks/cluster:Cluster"
	typeSecurityGroup  = "aws:ec2/securityGroup:SecurityGroup"
	typeSGRule         = "aws:ec2/securityGroupRule:SecurityGroupRule"
	typeSGIngressRule  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	typeEC2Instance    = "aws:ec2/instance:Instance"
	typeBucket         = "aws:s3/bucketV2:BucketV2"
	typeTrail          = "aws:cloudtrail/trail:Trail"
	typePublicBlock    = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeBucketACL      = "aws:s3/bucketAclV2:BucketAclV2"
	typeLogGroup       = "aws:cloudwatch/logGroup:LogGroup"
	typeDistribution   = "aws:cloudfront/distribution:Distribution"
)

// acmeChallengePattern is the one cache behaviour allowed to serve plain
// HTTP: ACME's HTTP-01 challenges, which the CA asks for over HTTP.
const acmeChallengePattern = "/.well-known/acme-challenge/*"

// productionLike is the knob that turns on the guards only production
// needs; the pack config of each production stack sets it.
var productionLike = map[string]map[string]any{
	"productionLike": {"type": "boolean", "default": false, "description": "the stack holds production data"},
}

// defaultInstanceFamilies are the current-generation families the platform
// runs on; older ones (m4, t2, r4...) cost more per unit of work.
var defaultInstanceFamilies = []string{
	"t3", "t3a", "t4g", "m5", "m6i", "m6a", "m6g", "m7i", "m7g", "c6i", "c6g", "c7i", "c7g", "r6i", "r6g", "r7i", "r7g",
}

func toAny(l []string) []any {
	out := make([]any, 0, len(l))
	for _, s := range l {
		out = append(out, s)
	}
	return out
}

// iamPolicyTypes carry an IAM policy document in "policy".
var iamPolicyTypes = map[string]bool{
	"aws:iam/policy:Policy":           true,
	"aws:iam/rolePolicy:RolePolicy":   true,
	"aws:iam/userPolicy:UserPolicy":   true,
	"aws:iam/groupPolicy:GroupPolicy": true,
}

// untaggable are AWS types that have no tags to carry.
var untaggable = map[string]bool{
	"aws:iam/rolePolicy:RolePolicy":                                                              true,
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":                                          true,
	"aws:ec2/routeTableAssociation:RouteTableAssociation":                                        true,
	"aws:ec2/securityGroupRule:SecurityGroupRule":                                                true,
	"aws:kms/alias:Alias":                                                                        true,
	"aws:eks/accessPolicyAssociation:AccessPolicyAssociation":                                    true,
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     true,
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     true,
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": true,
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               true,
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       true,
	"aws:s3/bucketPolicy:BucketPolicy":                                                           true,
	"aws:s3/bucketAclV2:BucketAclV2":                                                             true,
	"aws:route53/record:Record":                                                                  true,
}

func awsRules() []ResourceRule {
	return []ResourceRule{
		{Policy{"rds-storage-encrypted", "RDS storage is encrypted at rest", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeRDSInstance || isTrue(r.Props["storageEncrypted"]) || unknown(r.Props["storageEncrypted"]) {
				return nil
			}
			return []string{fmt.Sprintf("RDS instance %s stores data unencrypted; set storageEncrypted: true and kmsKeyId to a customer-managed key", shortName(r))}
		}},
		{Policy{"rds-not-public", "RDS instances are never publicly accessible", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeRDSInstance || r.Props["publiclyAccessible"] != true {
				return nil
			}
			return []string{fmt.Sprintf("RDS instance %s is publicly accessible; set publiclyAccessible: false and reach it from the cluster", shortName(r))}
		}},
		{Policy{"rds-deletion-protection", "production-like RDS instances have deletion protection", Mandatory, productionLike}, func(r Resource, cfg Config) []string {
			if r.Type != typeRDSInstance || !cfg.Bool("productionLike", false) || isTrue(r.Props["deletionProtection"]) {
				return nil
			}
			return []string{fmt.Sprintf("RDS instance %s can be deleted by one API call; set deletionProtection: true (config guards.deletionProtection)", shortName(r))}
		}},
		{Policy{"rds-backup-retention", "RDS primaries keep backups for point-in-time recovery (>= minDays where production-like)", Mandatory, map[string]map[string]any{
			"productionLike": productionLike["productionLike"],
			"minDays":        {"type": "integer", "default": 7, "description": "minimum retention, in days, where production-like"},
		}}, func(r Resource, cfg Config) []string {
			if r.Type != typeRDSInstance || r.Props["replicateSourceDb"] != nil {
				return nil
			}
			min := 1
			if cfg.Bool("productionLike", false) {
				min = cfg.Int("minDays", 7)
			}
			days, ok := num(r.Props["backupRetentionPeriod"])
			if ok && days >= int64(min) {
				return nil
			}
			return []string{fmt.Sprintf("RDS instance %s keeps backups %d days; set backupRetentionPeriod to at least %d (config database.backupRetentionDays)", shortName(r), days, min)}
		}},
		{Policy{"rds-tls-required", "PostgreSQL refuses connections without TLS", Mandatory, nil}, func(r Resource, _ Config) []string {
			switch r.Type {
			case typeRDSParams:
				if !strings.HasPrefix(str(r.Props["family"]), "postgres") {
					return nil
				}
				for _, p := range list(r.Props["parameters"]) {
					if Get(p, "name") == "rds.force_ssl" && Get(p, "value") == "1" {
						return nil
					}
				}
				return []string{fmt.Sprintf("parameter group %s does not force TLS; add the parameter rds.force_ssl = 1", shortName(r))}
			case typeRDSInstance:
				if r.Props["replicateSourceDb"] != nil || !strings.HasPrefix(str(r.Props["engine"]), "postgres") {
					return nil
				}
				if pg := str(r.Props["parameterGroupName"]); pg == "" || strings.HasPrefix(pg, "default.") {
					return []string{fmt.Sprintf("RDS instance %s uses the default parameter group; give it one that sets rds.force_ssl = 1", shortName(r))}
				}
			}
			return nil
		}},
		{Policy{"elasticache-encrypted", "Redis is encrypted in transit and at rest and requires AUTH", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeRedisGroup {
				return nil
			}
			var msgs []string
			if !isTrue(r.Props["transitEncryptionEnabled"]) {
				msgs = append(msgs, fmt.Sprintf("replication group %s accepts plaintext connections; set transitEncryptionEnabled: true", shortName(r)))
			}
			if !isTrue(r.Props["atRestEncryptionEnabled"]) {
				msgs = append(msgs, fmt.Sprintf("replication group %s stores data unencrypted; set atRestEncryptionEnabled: true with kmsKeyId", shortName(r)))
			}
			if str(r.Props["authToken"]) == "" && len(list(r.Props["userGroupIds"])) == 0 {
				msgs = append(msgs, fmt.Sprintf("replication group %s needs no password; set authToken (pulumi-random, secret)", shortName(r)))
			}
			return msgs
		}},
		{Policy{"kms-key-rotation", "customer-managed KMS keys rotate yearly", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeKMSKey || isTrue(r.Props["enableKeyRotation"]) {
				return nil
			}
			if spec := str(r.Props["customerMasterKeySpec"]); spec != "" && spec != "SYMMETRIC_DEFAULT" {
				return nil // AWS rotates only symmetric keys
			}
			return []string{fmt.Sprintf("KMS key %s does not rotate; set enableKeyRotation: true", shortName(r))}
		}},
		{Policy{"eks-secrets-encryption", "EKS envelope-encrypts Kubernetes Secrets with a KMS key", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeEKSCluster {
				return nil
			}
			if contains(strList(Get(r.Props, "encryptionConfig", "resources")), "secrets") && Get(r.Props, "encryptionConfig", "provider", "keyArn") != nil {
				return nil
			}
			return []string{fmt.Sprintf("EKS cluster %s stores Secrets with only the default encryption; set encryptionConfig {resources: [secrets], provider.keyArn}", shortName(r))}
		}},
		{Policy{"eks-control-plane-logging", "EKS ships api, audit and authenticator logs", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeEKSCluster {
				return nil
			}
			var missing []string
			got := strList(r.Props["enabledClusterLogTypes"])
			for _, want := range []string{"api", "audit", "authenticator"} {
				if !contains(got, want) {
					missing = append(missing, want)
				}
			}
			if len(missing) == 0 {
				return nil
			}
			return []string{fmt.Sprintf("EKS cluster %s does not log %s; add them to enabledClusterLogTypes", shortName(r), strings.Join(missing, ", "))}
		}},
		{Policy{"cloudtrail-trail-hardened", "a CloudTrail trail records every region and the management events, validates its log files and encrypts them with a customer-managed key", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeTrail {
				return nil
			}
			var missing []string
			if r.Props["isMultiRegionTrail"] != true && !unknown(r.Props["isMultiRegionTrail"]) {
				missing = append(missing, "isMultiRegionTrail: true (a trail of one region misses what is done elsewhere)")
			}
			if r.Props["includeGlobalServiceEvents"] == false {
				missing = append(missing, "includeGlobalServiceEvents: true (IAM and STS are global)")
			}
			if r.Props["enableLogFileValidation"] != true && !unknown(r.Props["enableLogFileValidation"]) {
				missing = append(missing, "enableLogFileValidation: true (digest files prove a log file unchanged)")
			}
			if Str(r.Props["kmsKeyId"]) == "" && !unknown(r.Props["kmsKeyId"]) {
				missing = append(missing, "kmsKeyId: a customer-managed key (SSE-KMS)")
			}
			if r.Props["enableLogging"] == false {
				missing = append(missing, "enableLogging: true (the trail is stopped)")
			}
			if !recordsManagementEvents(r.Props) {
				missing = append(missing, "a selector of the management events (eventCategory Management)")
			}
			if len(missing) == 0 {
				return nil
			}
			return []string{fmt.Sprintf("CloudTrail trail %s lacks %s", shortName(r), strings.Join(missing, "; "))}
		}},
		{Policy{"cloudfront-distribution-protected", "a CloudFront distribution has a WAF web ACL, its own certificate by SNI at TLS 1.2 or later, and uses HTTPS toward viewers and custom origins (TLS 1.2 only) on every path but ACME's challenges", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeDistribution {
				return nil
			}
			var missing []string
			if Str(r.Props["webAclId"]) == "" && !unknown(r.Props["webAclId"]) {
				missing = append(missing, "webAclId: a WAF web ACL (CLOUDFRONT scope)")
			}
			cert := r.Props["viewerCertificate"]
			if Get(cert, "cloudfrontDefaultCertificate") == true || (Str(Get(cert, "acmCertificateArn")) == "" && !unknown(Get(cert, "acmCertificateArn")) && Str(Get(cert, "iamCertificateId")) == "") {
				missing = append(missing, "viewerCertificate: a certificate of its own (acmCertificateArn), not *.cloudfront.net's")
			}
			if v := Str(Get(cert, "minimumProtocolVersion")); !strings.HasPrefix(v, "TLSv1.2_") && !strings.HasPrefix(v, "TLSv1.3") {
				missing = append(missing, fmt.Sprintf("viewerCertificate.minimumProtocolVersion TLSv1.2_2021 or later (got %q)", v))
			}
			if m := Str(Get(cert, "sslSupportMethod")); m != "sni-only" {
				missing = append(missing, fmt.Sprintf("viewerCertificate.sslSupportMethod sni-only (got %q; vip bills a dedicated IP)", m))
			}
			behaviours := []any{r.Props["defaultCacheBehavior"]}
			behaviours = append(behaviours, List(r.Props["orderedCacheBehaviors"])...)
			// Origins reached over plain HTTP (FSBP CloudFront.9) may serve
			// ACME's challenges and nothing else; none may offer SSLv3,
			// TLS 1.0 or 1.1 (CloudFront.10).
			plainOrigins := map[string]bool{}
			for _, o := range List(r.Props["origins"]) {
				c := Get(o, "customOriginConfig")
				if c == nil {
					continue
				}
				id := Str(Get(o, "originId"))
				if p := Str(Get(c, "originProtocolPolicy")); p == "http-only" || p == "match-viewer" {
					plainOrigins[id] = true
				}
				for _, v := range strList(Get(c, "originSslProtocols")) {
					if v != "TLSv1.2" {
						missing = append(missing, fmt.Sprintf("origin %s: originSslProtocols TLSv1.2 only (offers %s)", id, v))
					}
				}
			}
			for _, b := range behaviours {
				path := Str(Get(b, "pathPattern"))
				if path == acmeChallengePattern {
					continue
				}
				if o := Str(Get(b, "targetOriginId")); plainOrigins[o] {
					shown := path
					if shown == "" {
						shown = "the default behaviour"
					}
					missing = append(missing, fmt.Sprintf("HTTPS to origin %s on %s (its originProtocolPolicy is not https-only)", o, shown))
				}
				if p := Str(Get(b, "viewerProtocolPolicy")); p != "redirect-to-https" && p != "https-only" {
					if path == "" {
						path = "the default behaviour"
					}
					missing = append(missing, fmt.Sprintf("viewerProtocolPolicy redirect-to-https on %s (got %q)", path, p))
				}
			}
			if len(missing) == 0 {
				return nil
			}
			return []string{fmt.Sprintf("CloudFront distribution %s lacks %s", shortName(r), strings.Join(missing, "; "))}
		}},
		{Policy{"eks-public-endpoint-restricted", "the EKS public endpoint is off or limited to listed CIDRs", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeEKSCluster {
				return nil
			}
			// EKS turns the public endpoint on unless told otherwise.
			if Get(r.Props, "vpcConfig", "endpointPublicAccess") == false {
				return nil
			}
			cidrs := strList(Get(r.Props, "vpcConfig", "publicAccessCidrs"))
			if len(cidrs) == 0 || contains(cidrs, "0.0.0.0/0") {
				return []string{fmt.Sprintf("EKS cluster %s's API is open to the internet; list office/VPN/CI ranges in publicAccessCidrs (config cluster.publicAccessCidrs) or turn endpointPublicAccess off", shortName(r))}
			}
			return nil
		}},
		{Policy{"security-group-no-open-ingress", "no security group admits the internet, except 80/443 on a load balancer's group", Mandatory, map[string]map[string]any{
			"loadBalancerTag": {"type": "string", "default": "scrolluniversity.io/load-balancer", "description": "tag that marks a load balancer's security group"},
		}}, checkOpenIngress},
		{Policy{"iam-no-admin-wildcard", "no IAM policy allows every action on every resource", Mandatory, nil}, func(r Resource, _ Config) []string {
			if !iamPolicyTypes[r.Type] {
				return nil
			}
			doc := str(r.Props["policy"])
			if doc == "" || unknown(doc) {
				return nil
			}
			var parsed struct {
				Statement json.RawMessage
			}
			if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
				return []string{fmt.Sprintf("%s's policy is not valid JSON: %v", shortName(r), err)}
			}
			var stmts []map[string]any
			if err := json.Unmarshal(parsed.Statement, &stmts); err != nil {
				var single map[string]any
				if json.Unmarshal(parsed.Statement, &single) == nil {
					stmts = []map[string]any{single}
				}
			}
			for _, s := range stmts {
				if s["Effect"] != "Allow" {
					continue
				}
				actions, resources := strList(s["Action"]), strList(s["Resource"])
				if (contains(actions, "*") || contains(actions, "*:*")) && contains(resources, "*") {
					return []string{fmt.Sprintf("%s allows \"*\" on \"*\"; grant the actions it needs on the resources it needs", shortName(r))}
				}
			}
			return nil
		}},
		{Policy{"aws-required-tags", "every taggable AWS resource carries the required tags (its own or the provider's defaultTags)", Mandatory, map[string]map[string]any{
			"requiredTags": {"type": "array", "items": map[string]any{"type": "string"}, "default": []any{"Project", "Environment", "ManagedBy"}, "description": "tag keys every resource must carry"},
		}}, func(r Resource, cfg Config) []string {
			if !strings.HasPrefix(r.Type, "aws:") || untaggable[r.Type] || strings.HasPrefix(r.Type, "pulumi:") {
				return nil
			}
			have := map[string]bool{}
			for _, src := range []any{r.Props["tags"], Get(r.ProviderProps, "defaultTags", "tags")} {
				if m, ok := src.(map[string]any); ok {
					for k := range m {
						have[k] = true
					}
				}
			}
			var missing []string
			for _, k := range cfg.Strings("requiredTags", []string{"Project", "Environment", "ManagedBy"}) {
				if !have[k] {
					missing = append(missing, k)
				}
			}
			if len(missing) == 0 {
				return nil
			}
			return []string{fmt.Sprintf("%s %s lacks tags %s; create it with the stack's AWS provider (defaultTags) or tag it", r.Type, shortName(r), strings.Join(missing, ", "))}
		}},
		{Policy{"ec2-imdsv2-required", "instances require IMDSv2 tokens", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeLaunchTemplate && r.Type != typeEC2Instance {
				return nil
			}
			if Get(r.Props, "metadataOptions", "httpTokens") == "required" {
				return nil
			}
			return []string{fmt.Sprintf("%s %s allows IMDSv1; set metadataOptions.httpTokens: required", r.Type, shortName(r))}
		}},
		{Policy{"aws-allowed-instance-families", "EC2, RDS and ElastiCache capacity comes from the instance families the team supports (current generation, reserved capacity)", Mandatory, map[string]map[string]any{
			"allowedFamilies": {"type": "array", "items": map[string]any{"type": "string"}, "default": toAny(defaultInstanceFamilies), "description": "instance families (the part before the dot, without db. or cache.)"},
		}}, func(r Resource, cfg Config) []string {
			var types []string
			switch r.Type {
			case "aws:eks/nodeGroup:NodeGroup":
				types = strList(r.Props["instanceTypes"])
			case typeLaunchTemplate, typeEC2Instance:
				types = strList(r.Props["instanceType"])
			case typeRDSInstance:
				types = strList(r.Props["instanceClass"])
			case typeRedisGroup:
				types = strList(r.Props["nodeType"])
			}
			allowed := cfg.Strings("allowedFamilies", defaultInstanceFamilies)
			var msgs []string
			for _, t := range types {
				family := strings.TrimPrefix(strings.TrimPrefix(t, "db."), "cache.")
				if i := strings.Index(family, "."); i >= 0 {
					family = family[:i]
				}
				if !contains(allowed, family) {
					msgs = append(msgs, fmt.Sprintf("%s %s uses %s; pick a family from %v or add %s to the policy's allowedFamilies", r.Type, shortName(r), t, allowed, family))
				}
			}
			return msgs
		}},
		{Policy{"log-group-retention-and-encryption", "log groups expire and are encrypted with a customer-managed key", Advisory, nil}, func(r Resource, _ Config) []string {
			if r.Type != typeLogGroup {
				return nil
			}
			var msgs []string
			if _, ok := num(r.Props["retentionInDays"]); !ok {
				msgs = append(msgs, fmt.Sprintf("log group %s keeps logs forever; set retentionInDays", shortName(r)))
			}
			if r.Props["kmsKeyId"] == nil {
				msgs = append(msgs, fmt.Sprintf("log group %s is not encrypted with a customer-managed key; set kmsKeyId", shortName(r)))
			}
			return msgs
		}},
		{Policy{"s3-no-public-access", "S3 public access is blocked on every path, and no ACL grants the public", Mandatory, nil}, func(r Resource, _ Config) []string {
			switch r.Type {
			case typePublicBlock:
				var off []string
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					if !isTrue(r.Props[k]) {
						off = append(off, k)
					}
				}
				if len(off) > 0 {
					return []string{fmt.Sprintf("public access block %s leaves %s off; set all four to true", shortName(r), strings.Join(off, ", "))}
				}
			case typeBucket, typeBucketACL:
				if acl := str(r.Props["acl"]); strings.HasPrefix(acl, "public-") || acl == "authenticated-read" {
					return []string{fmt.Sprintf("%s %s grants ACL %s; remove it (ownership is BucketOwnerEnforced)", r.Type, shortName(r), acl)}
				}
			}
			return nil
		}},
	}
}

// checkOpenIngress finds ingress from 0.0.0.0/0 or ::/0, allowing only 80
// and 443 on a security group tagged as a load balancer's.
func checkOpenIngress(r Resource, cfg Config) []string {
	lbTag := cfg["loadBalancerTag"]
	tagName, _ := lbTag.(string)
	isLB := func(tags any) bool {
		m, _ := tags.(map[string]any)
		return tagName != "" && m[tagName] != nil
	}
	open := func(cidrs ...string) bool {
		for _, c := range cidrs {
			if c == "0.0.0.0/0" || c == "::/0" {
				return true
			}
		}
		return false
	}
	webPort := func(from, to any) bool {
		f, ok1 := num(from)
		t, ok2 := num(to)
		return ok1 && ok2 && f == t && (f == 80 || f == 443)
	}
	msg := func(port string) string {
		return fmt.Sprintf("%s %s admits the internet on %s; admit a security group or a specific CIDR instead", r.Type, shortName(r), port)
	}
	var msgs []string
	switch r.Type {
	case typeSecurityGroup:
		for _, in := range list(r.Props["ingress"]) {
			if open(append(strList(Get(in, "cidrBlocks")), strList(Get(in, "ipv6CidrBlocks"))...)...) && !(isLB(r.Props["tags"]) && webPort(Get(in, "fromPort"), Get(in, "toPort"))) {
				msgs = append(msgs, msg(fmt.Sprintf("ports %v-%v", Get(in, "fromPort"), Get(in, "toPort"))))
			}
		}
	case typeSGIngressRule:
		if open(str(r.Props["cidrIpv4"]), str(r.Props["cidrIpv6"])) && !(isLB(r.Props["tags"]) && webPort(r.Props["fromPort"], r.Props["toPort"])) {
			msgs = append(msgs, msg(fmt.Sprintf("ports %v-%v", r.Props["fromPort"], r.Props["toPort"])))
		}
	case typeSGRule:
		// Rules carry no tags, so nothing marks them as a load balancer's.
		if r.Props["type"] == "ingress" && open(append(strList(r.Props["cidrBlocks"]), strList(r.Props["ipv6CidrBlocks"])...)...) {
			msgs = append(msgs, msg(fmt.Sprintf("ports %v-%v", r.Props["fromPort"], r.Props["toPort"])))
		}
	}
	return msgs
}

// recordsManagementEvents says whether a trail's selectors keep the
// management events: no selectors (CloudTrail's default), a basic selector
// that includes them (its default too), or an advanced selector of
// eventCategory Management.
func recordsManagementEvents(props map[string]any) bool {
	advanced, basic := list(props["advancedEventSelectors"]), list(props["eventSelectors"])
	if len(advanced) == 0 && len(basic) == 0 {
		return true
	}
	for _, sel := range basic {
		if v := Get(sel, "includeManagementEvents"); v == nil || v == true {
			return true
		}
	}
	for _, sel := range advanced {
		for _, f := range list(Get(sel, "fieldSelectors")) {
			if Get(f, "field") == "eventCategory" && contains(strList(Get(f, "equals")), "Management") {
				return true
			}
		}
	}
	return false
}
