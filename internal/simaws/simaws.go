// Package simaws is the simulated AWS account: what each AWS resource's
// provider returns (its outputs, deterministic in its URN) and what its
// functions answer. The mock engine (internal/synth) and the simulated AWS
// provider plugin of the end-to-end run (cmd/pulumi-resource-aws) answer
// from this one table. Simulated: nothing here asks AWS.
package simaws

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/scrolluniversity/platform/internal/plain"
)

// AccountID is the simulated account's fixed identity, so that two runs
// are byte-identical.
const AccountID = "123456789012"

// Account is the account the outputs and functions answer for: AccountID,
// unless a process of its own sets another (the end-to-end run's plugin
// does, for the placeholder check that refuses the example account).
var Account = AccountID

// World is what the mock engine's AWS account answers the program's
// questions with: EKS's release calendar, the clusters that already
// exist, the newest add-on versions. Simulated, not asked of AWS.
type World struct {
	// StandardSupport are the EKS versions in standard support and the
	// end of it (RFC 3339).
	StandardSupport map[string]string
	// Clusters are existing EKS clusters and their versions.
	Clusters map[string]string
	// LatestAddons are the newest version of each add-on (for whatever
	// Kubernetes version is asked).
	LatestAddons map[string]string
	// Parameters are SSM parameters by name (the public AMI ones, the
	// bootstrap's runner egress).
	Parameters map[string]string
	// OIDCProviders are existing IAM OIDC providers: ARN to audiences.
	OIDCProviders map[string][]string
}

// RunnerEgress is the delivery runners' egress address in the
// simulated account (a documentation range: simulated, nothing sends
// from it); the bootstrap's mock Elastic IP has the same address.
const RunnerEgress = "198.51.100.10"

// DefaultWorld is the account as of 2026-12-02: AWS's EKS calendar (1.34
// left standard support that day), no cluster yet, and the add-on
// versions an EKS 1.36 cluster ran in 2026-09, which the committed stacks
// pin.
func DefaultWorld() *World {
	return &World{
		StandardSupport: map[string]string{"1.35": "2027-03-27T00:00:00Z", "1.36": "2027-08-02T00:00:00Z"},
		Clusters:        map[string]string{},
		LatestAddons: map[string]string{
			"vpc-cni": "v1.23.1-eksbuild.1", "kube-proxy": "v1.36.0-eksbuild.25", "coredns": "v1.14.6-eksbuild.4",
			"aws-ebs-csi-driver": "v1.66.0-eksbuild.1", "metrics-server": "v0.9.0-eksbuild.11",
		},
		Parameters: map[string]string{
			"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64": "ami-0mockal2023",
			"/scrolluniversity/delivery/runner-egress-cidrs":                        RunnerEgress + "/32",
		},
		OIDCProviders: map[string][]string{},
	}
}

// Digest is a deterministic hex string (SHA-256) of a resource's URN and
// other parts, which its simulated IDs and names are made of.
func Digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

// Outputs is what the AWS provider returns for a resource, simulated: its
// inputs plus the computed properties the program reads, deterministic in
// the resource's URN.
func Outputs(urn, typ, name, region string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	r := struct {
		URN, Type, Name string
	}{urn, typ, name}
	state := inputs.Copy()
	d := Digest(r.URN)
	str := func(k string) string {
		if v, ok := state[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	set := func(k string, v any) { state[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	setIfEmpty := func(k string, v string) {
		if str(k) == "" {
			set(k, v)
		}
	}
	if strings.HasPrefix(r.Type, "pulumi:providers:") {
		return "provider-" + d[:8], state
	}
	mod, kind := typeParts(r.Type)
	id := r.Name + "-" + d[:8]
	if prefix, ok := idPrefixes[r.Type]; ok {
		id = prefix + d[:17]
	}
	// A name prefix gets the 26 characters the AWS provider appends.
	if p := str("namePrefix"); p != "" && str("name") == "" {
		set("name", p+d[:26])
	}
	if strings.HasPrefix(r.Type, "aws:") {
		set("arn", fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", mod, region, Account, strings.ToLower(kind), r.Name))
	}

	switch r.Type {
	case "aws:eks/cluster:Cluster":
		name := str("name")
		set("endpoint", fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", strings.ToUpper(d[:32]), region))
		set("certificateAuthority", map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("mock-ca-" + d[:16]))})
		set("identities", []any{map[string]any{"oidcs": []any{map[string]any{
			"issuer": fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", region, strings.ToUpper(d[:32])),
		}}}})
		vpc := map[string]any{}
		if v, ok := state["vpcConfig"]; ok && v.IsObject() {
			vpc = v.Mappable().(map[string]any)
		}
		vpc["clusterSecurityGroupId"] = "sg-" + Digest(r.URN, "cluster-sg")[:17]
		vpc["vpcId"] = "vpc-mock"
		set("vpcConfig", vpc)
		set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, Account, name))
		id = name
	case "aws:iam/role:Role":
		setIfEmpty("name", r.Name+"-"+d[:7])
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", Account, str("name")))
		id = str("name")
	case "aws:iam/policy:Policy":
		setIfEmpty("name", r.Name+"-"+d[:7])
		set("arn", fmt.Sprintf("arn:aws:iam::%s:policy/%s", Account, str("name")))
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		set("arn", fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", Account, strings.TrimPrefix(str("url"), "https://")))
	case "aws:kms/key:Key":
		keyID := fmt.Sprintf("%s-%s-%s-%s-%s", d[:8], d[8:12], d[12:16], d[16:20], d[20:32])
		set("keyId", keyID)
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, Account, keyID))
		id = keyID
	case "aws:cloudwatch/logGroup:LogGroup":
		setIfEmpty("name", r.Name)
		set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, Account, str("name")))
		id = str("name")
	case "aws:ec2/launchTemplate:LaunchTemplate":
		set("latestVersion", 1)
	case "aws:ec2/eip:Eip":
		set("publicIp", RunnerEgress)
		set("allocationId", "eipalloc-"+d[:17])
	case "aws:rds/instance:Instance":
		ident := str("identifier")
		if ident == "" {
			ident = r.Name
		}
		address := fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", ident, d[:11], region)
		port := 5432.0
		if v, ok := state["port"]; ok && v.IsNumber() {
			port = v.NumberValue()
		}
		set("address", address)
		set("endpoint", fmt.Sprintf("%s:%d", address, int(port)))
		set("port", port)
		set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, Account, ident))
		set("resourceId", "db-"+strings.ToUpper(d[:26]))
		id = ident
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		gid := str("replicationGroupId")
		set("primaryEndpointAddress", fmt.Sprintf("master.%s.%s.%s.cache.amazonaws.com", gid, d[:6], shortRegion(region)))
		set("readerEndpointAddress", fmt.Sprintf("replica.%s.%s.%s.cache.amazonaws.com", gid, d[:6], shortRegion(region)))
		set("arn", fmt.Sprintf("arn:aws:elasticache:%s:%s:replicationgroup:%s", region, Account, gid))
		id = gid
	case "aws:s3/bucketV2:BucketV2":
		if str("bucket") == "" {
			set("bucket", str("bucketPrefix")+d[:12])
		}
		set("arn", "arn:aws:s3:::"+str("bucket"))
		set("bucketRegionalDomainName", fmt.Sprintf("%s.s3.%s.amazonaws.com", str("bucket"), region))
		id = str("bucket")
	case "aws:ec2/securityGroup:SecurityGroup":
		set("arn", fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", region, Account, id))
	case "aws:acm/certificate:Certificate":
		// One DNS validation record per name, as ACM gives them.
		names := []string{str("domainName")}
		if v, ok := state["subjectAlternativeNames"]; ok && v.IsArray() {
			for _, n := range v.ArrayValue() {
				if n.IsString() {
					names = append(names, n.StringValue())
				}
			}
		}
		var options []any
		for _, n := range names {
			token := Digest(r.URN, n)
			options = append(options, map[string]any{
				"domainName":          n,
				"resourceRecordName":  "_" + token[:32] + "." + n + ".",
				"resourceRecordType":  "CNAME",
				"resourceRecordValue": "_" + token[32:64] + ".mhbtsbpdnt.acm-validations.aws.",
			})
		}
		set("domainValidationOptions", options)
		id = fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", region, Account, uuid(d))
		set("arn", id)
		set("status", "ISSUED")
	case "aws:route53/record:Record":
		set("fqdn", strings.TrimSuffix(str("name"), "."))
		id = str("zoneId") + "_" + str("name") + "_" + str("type")
	case "aws:cloudfront/distribution:Distribution":
		id = "E" + strings.ToUpper(d[:13])
		set("domainName", "d"+d[13:26]+".cloudfront.net")
		// CloudFront's one hosted zone, for alias records.
		set("hostedZoneId", "Z2FDTNDATAQYW2")
		set("arn", fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", Account, id))
		set("status", "Deployed")
	case "aws:cloudfront/originRequestPolicy:OriginRequestPolicy":
		id = uuid(d)
	case "aws:wafv2/webAcl:WebAcl":
		id = uuid(d)
		set("arn", fmt.Sprintf("arn:aws:wafv2:%s:%s:global/webacl/%s/%s", region, Account, str("name"), id))
	}
	return id, state
}

// uuid formats the start of a digest as a UUID, the IDs ACM, CloudFront
// policies and WAF give.
func uuid(d string) string {
	return fmt.Sprintf("%s-%s-%s-%s-%s", d[:8], d[8:12], d[12:16], d[16:20], d[20:32])
}

// idPrefixes give EC2-style IDs to the types whose IDs look like that.
var idPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                     "vpc-",
	"aws:ec2/subnet:Subnet":                               "subnet-",
	"aws:ec2/securityGroup:SecurityGroup":                 "sg-",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":   "sg-",
	"aws:ec2/internetGateway:InternetGateway":             "igw-",
	"aws:ec2/natGateway:NatGateway":                       "nat-",
	"aws:ec2/eip:Eip":                                     "eipalloc-",
	"aws:ec2/routeTable:RouteTable":                       "rtb-",
	"aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
	"aws:ec2/launchTemplate:LaunchTemplate":               "lt-",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     "vpce-",
	"aws:ec2/flowLog:FlowLog":                             "fl-",
}

// typeParts splits "aws:ec2/vpc:Vpc" into ("ec2", "Vpc").
func typeParts(typ string) (string, string) {
	parts := strings.Split(typ, ":")
	if len(parts) != 3 {
		return "", typ
	}
	mod := parts[1]
	if i := strings.Index(mod, "/"); i >= 0 {
		mod = mod[:i]
	}
	return mod, parts[2]
}

// shortRegion is ElastiCache's endpoint spelling: us-east-1 -> use1.
func shortRegion(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	return parts[0] + parts[1][:1] + parts[2]
}

// Invoke answers the AWS provider's functions (invokes) from the world.
func Invoke(world *World, region, token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	switch token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": Account,
			"arn":       fmt.Sprintf("arn:aws:iam::%s:user/synth", Account),
			"userId":    "AIDAMOCKSYNTH",
			"id":        Account,
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": "aws",
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": region, "id": region, "endpoint": "ec2." + region + ".amazonaws.com"}), nil
	case "aws:eks/getAddonVersion:getAddonVersion":
		name := args["addonName"].StringValue()
		v, ok := world.LatestAddons[name]
		if !ok {
			return nil, fmt.Errorf("simulated AWS: the world publishes no %s", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"addonName": name, "kubernetesVersion": args["kubernetesVersion"].StringValue(),
			"mostRecent": true, "version": v, "id": name,
		}), nil
	case "aws:eks/getClusterVersions:getClusterVersions":
		var list []any
		for _, v := range slices.Sorted(maps.Keys(world.StandardSupport)) {
			list = append(list, map[string]any{
				"clusterType": "eks", "clusterVersion": v, "versionStatus": "STANDARD_SUPPORT",
				"endOfStandardSupportDate": world.StandardSupport[v],
			})
		}
		return resource.NewPropertyMapFromMap(map[string]any{"clusterVersions": list, "versionStatus": "STANDARD_SUPPORT", "id": region}), nil
	case "aws:eks/getClusters:getClusters":
		names := []any{}
		for _, n := range slices.Sorted(maps.Keys(world.Clusters)) {
			names = append(names, n)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "id": region}), nil
	case "aws:eks/getCluster:getCluster":
		name := args["name"].StringValue()
		v, ok := world.Clusters[name]
		if !ok {
			return nil, fmt.Errorf("simulated AWS: no EKS cluster %s", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"name": name, "version": v, "id": name}), nil
	case "aws:ssm/getParameter:getParameter":
		name := args["name"].StringValue()
		v, ok := world.Parameters[name]
		if !ok {
			return nil, fmt.Errorf("simulated AWS: ParameterNotFound: %s", name)
		}
		typ := "String"
		if strings.Contains(v, ",") || strings.HasSuffix(name, "-cidrs") {
			typ = "StringList"
		}
		return resource.NewPropertyMapFromMap(map[string]any{"name": name, "value": v, "insecureValue": v, "type": typ, "arn": fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, Account, name), "id": name}), nil
	case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
		arn := args["arn"].StringValue()
		aud, ok := world.OIDCProviders[arn]
		if !ok {
			return nil, fmt.Errorf("simulated AWS: NoSuchEntity: OpenIDConnect provider %s", arn)
		}
		var list []any
		for _, a := range aud {
			list = append(list, a)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"arn": arn, "url": strings.SplitN(arn, "oidc-provider/", 2)[1], "clientIdLists": list, "thumbprintLists": []any{}, "id": arn}), nil
	case "aws:iam/getPolicyDocument:getPolicyDocument":
		doc, err := renderPolicyDocument(args)
		if err != nil {
			return nil, err
		}
		return resource.NewPropertyMapFromMap(map[string]any{"json": doc, "minifiedJson": doc, "id": Digest(doc)[:10]}), nil
	}
	return nil, fmt.Errorf("simulated AWS: no answer for function %s; add one to internal/simaws", token)
}

// renderPolicyDocument does what the AWS provider's getPolicyDocument does
// with its statements: an IAM JSON policy, single values as plain strings.
func renderPolicyDocument(args resource.PropertyMap) (string, error) {
	in := plain.Map(args)
	type statement map[string]any
	doc := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{Version: "2012-10-17"}
	one := func(v any) any {
		if l, ok := v.([]any); ok && len(l) == 1 {
			return l[0]
		}
		return v
	}
	stmts, _ := in["statements"].([]any)
	for _, raw := range stmts {
		in, _ := raw.(map[string]any)
		out := statement{}
		if sid, ok := in["sid"].(string); ok && sid != "" {
			out["Sid"] = sid
		}
		out["Effect"] = "Allow"
		if e, ok := in["effect"].(string); ok && e != "" {
			out["Effect"] = e
		}
		for from, to := range map[string]string{"actions": "Action", "notActions": "NotAction", "resources": "Resource", "notResources": "NotResource"} {
			if l, ok := in[from].([]any); ok && len(l) > 0 {
				out[to] = one(l)
			}
		}
		for from, to := range map[string]string{"principals": "Principal", "notPrincipals": "NotPrincipal"} {
			l, _ := in[from].([]any)
			if len(l) == 0 {
				continue
			}
			p := map[string]any{}
			for _, pr := range l {
				pm, _ := pr.(map[string]any)
				p[pm["type"].(string)] = one(pm["identifiers"])
			}
			out[to] = p
		}
		if l, ok := in["conditions"].([]any); ok && len(l) > 0 {
			cond := map[string]map[string]any{}
			for _, c := range l {
				cm, _ := c.(map[string]any)
				test := cm["test"].(string)
				if cond[test] == nil {
					cond[test] = map[string]any{}
				}
				cond[test][cm["variable"].(string)] = one(cm["values"])
			}
			out["Condition"] = cond
		}
		doc.Statement = append(doc.Statement, out)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return string(b), err
}
