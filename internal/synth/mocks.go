package synth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/internal/plain"
)

// Fixed identities the mock engine answers with, so that two runs are
// byte-identical.
const (
	MockAccountID = "123456789012"
	// MockPassword is what every random password resolves to; it is secret
	// in every output, so it never appears in what the synthesizer writes.
	MockPassword = "mock-password-0123456789abcdef"
)

// mocks implements pulumi.MockResourceMonitor: it answers every resource
// registration with realistic, deterministic outputs per type and records
// what was registered.
type mocks struct {
	project, stack, region string
	world                  *World

	mu        sync.Mutex
	resources map[string]*Resource
}

func newMocks(project, stack, region string) *mocks {
	return &mocks{project: project, stack: stack, region: region, resources: map[string]*Resource{}}
}

// digest is a short deterministic hex string for a resource.
func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// NewResource records a registration and returns its ID and state.
func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := &Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Dependencies = append([]string(nil), rpc.GetDependencies()...)
		sort.Strings(r.Dependencies)
		data := map[string]bool{}
		for _, deps := range rpc.GetPropertyDependencies() {
			for _, urn := range deps.GetUrns() {
				data[urn] = true
			}
		}
		for urn := range data {
			r.DataDependencies = append(r.DataDependencies, urn)
		}
		sort.Strings(r.DataDependencies)
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.IgnoreChanges = append([]string(nil), rpc.GetIgnoreChanges()...)
		if ct := rpc.GetCustomTimeouts(); ct != nil {
			r.CreateTimeout, r.UpdateTimeout = ct.GetCreate(), ct.GetUpdate()
		}
	}
	if rpc := args.ReadRPC; rpc != nil {
		r.Parent = rpc.GetParent()
	}
	r.URN = m.urn(r.Parent, r.Type, r.Name)
	if p := args.Provider; p != "" {
		r.Provider = p[:strings.LastIndex(p, "::")]
	}

	id, state := m.outputs(r)
	if !args.Custom {
		id = ""
	}
	r.ID = id
	r.State = state

	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.resources[r.URN]; dup {
		return "", nil, fmt.Errorf("duplicate resource URN %s", r.URN)
	}
	m.resources[r.URN] = r
	return id, state, nil
}

// outputs computes what the provider would return: the inputs plus the
// computed properties downstream code reads.
func (m *mocks) outputs(r *Resource) (string, resource.PropertyMap) {
	state := r.Inputs.Copy()
	d := digest(r.URN)
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
	region := m.region
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
		set("arn", fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", mod, region, MockAccountID, strings.ToLower(kind), r.Name))
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
		vpc["clusterSecurityGroupId"] = "sg-" + digest(r.URN, "cluster-sg")[:17]
		vpc["vpcId"] = "vpc-mock"
		set("vpcConfig", vpc)
		set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, MockAccountID, name))
		id = name
	case "aws:iam/role:Role":
		setIfEmpty("name", r.Name+"-"+d[:7])
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", MockAccountID, str("name")))
		id = str("name")
	case "aws:iam/policy:Policy":
		setIfEmpty("name", r.Name+"-"+d[:7])
		set("arn", fmt.Sprintf("arn:aws:iam::%s:policy/%s", MockAccountID, str("name")))
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		set("arn", fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", MockAccountID, strings.TrimPrefix(str("url"), "https://")))
	case "aws:kms/key:Key":
		keyID := fmt.Sprintf("%s-%s-%s-%s-%s", d[:8], d[8:12], d[12:16], d[16:20], d[20:32])
		set("keyId", keyID)
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, MockAccountID, keyID))
		id = keyID
	case "aws:cloudwatch/logGroup:LogGroup":
		setIfEmpty("name", r.Name)
		set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, MockAccountID, str("name")))
		id = str("name")
	case "aws:ec2/launchTemplate:LaunchTemplate":
		set("latestVersion", 1)
	case "aws:ec2/eip:Eip":
		set("publicIp", MockRunnerEgress)
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
		set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, MockAccountID, ident))
		set("resourceId", "db-"+strings.ToUpper(d[:26]))
		id = ident
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		gid := str("replicationGroupId")
		set("primaryEndpointAddress", fmt.Sprintf("master.%s.%s.%s.cache.amazonaws.com", gid, d[:6], shortRegion(region)))
		set("readerEndpointAddress", fmt.Sprintf("replica.%s.%s.%s.cache.amazonaws.com", gid, d[:6], shortRegion(region)))
		set("arn", fmt.Sprintf("arn:aws:elasticache:%s:%s:replicationgroup:%s", region, MockAccountID, gid))
		id = gid
	case "aws:s3/bucketV2:BucketV2":
		if str("bucket") == "" {
			set("bucket", str("bucketPrefix")+d[:12])
		}
		set("arn", "arn:aws:s3:::"+str("bucket"))
		set("bucketRegionalDomainName", fmt.Sprintf("%s.s3.%s.amazonaws.com", str("bucket"), region))
		id = str("bucket")
	case "aws:ec2/securityGroup:SecurityGroup":
		set("arn", fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", region, MockAccountID, id))
	case "random:index/randomPassword:RandomPassword":
		set("result", MockPassword)
		set("bcryptHash", "$2a$10$mock")
	case "random:index/randomId:RandomId":
		set("hex", d[:16])
		set("b64Url", base64.RawURLEncoding.EncodeToString([]byte(d[:12])))
	}
	return id, state
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

// Call answers provider functions (invokes).
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": MockAccountID,
			"arn":       fmt.Sprintf("arn:aws:iam::%s:user/synth", MockAccountID),
			"userId":    "AIDAMOCKSYNTH",
			"id":        MockAccountID,
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": "aws",
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": m.region, "id": m.region, "endpoint": "ec2." + m.region + ".amazonaws.com"}), nil
	case "aws:eks/getAddonVersion:getAddonVersion":
		name := args.Args["addonName"].StringValue()
		v, ok := m.world.LatestAddons[name]
		if !ok {
			return nil, fmt.Errorf("synth mock engine: the world publishes no %s", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"addonName": name, "kubernetesVersion": args.Args["kubernetesVersion"].StringValue(),
			"mostRecent": true, "version": v, "id": name,
		}), nil
	case "aws:eks/getClusterVersions:getClusterVersions":
		var list []any
		for _, v := range slices.Sorted(maps.Keys(m.world.StandardSupport)) {
			list = append(list, map[string]any{
				"clusterType": "eks", "clusterVersion": v, "versionStatus": "STANDARD_SUPPORT",
				"endOfStandardSupportDate": m.world.StandardSupport[v],
			})
		}
		return resource.NewPropertyMapFromMap(map[string]any{"clusterVersions": list, "versionStatus": "STANDARD_SUPPORT", "id": m.region}), nil
	case "aws:eks/getClusters:getClusters":
		names := []any{}
		for _, n := range slices.Sorted(maps.Keys(m.world.Clusters)) {
			names = append(names, n)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "id": m.region}), nil
	case "aws:eks/getCluster:getCluster":
		name := args.Args["name"].StringValue()
		v, ok := m.world.Clusters[name]
		if !ok {
			return nil, fmt.Errorf("synth mock engine: no EKS cluster %s", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"name": name, "version": v, "id": name}), nil
	case "aws:ssm/getParameter:getParameter":
		name := args.Args["name"].StringValue()
		v, ok := m.world.Parameters[name]
		if !ok {
			return nil, fmt.Errorf("synth mock engine: ParameterNotFound: %s", name)
		}
		typ := "String"
		if strings.Contains(v, ",") || strings.HasSuffix(name, "-cidrs") {
			typ = "StringList"
		}
		return resource.NewPropertyMapFromMap(map[string]any{"name": name, "value": v, "insecureValue": v, "type": typ, "arn": fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", m.region, MockAccountID, name), "id": name}), nil
	case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
		arn := args.Args["arn"].StringValue()
		aud, ok := m.world.OIDCProviders[arn]
		if !ok {
			return nil, fmt.Errorf("synth mock engine: NoSuchEntity: OpenIDConnect provider %s", arn)
		}
		var list []any
		for _, a := range aud {
			list = append(list, a)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"arn": arn, "url": strings.SplitN(arn, "oidc-provider/", 2)[1], "clientIdLists": list, "thumbprintLists": []any{}, "id": arn}), nil
	case "aws:iam/getPolicyDocument:getPolicyDocument":
		doc, err := renderPolicyDocument(args.Args)
		if err != nil {
			return nil, err
		}
		return resource.NewPropertyMapFromMap(map[string]any{"json": doc, "minifiedJson": doc, "id": digest(doc)[:10]}), nil
	}
	return nil, fmt.Errorf("synth mock engine: no answer for function %s; add one to internal/synth/mocks.go", args.Token)
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
