package config

import (
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/scrolluniversity/platform/internal/cost"
	"github.com/scrolluniversity/platform/policy/rules"
)

var ssmNameRE = regexp.MustCompile(`^(/[A-Za-z0-9_.-]+)+$`)

var (
	regionRE        = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)
	clusterNameRE   = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	instanceTypeRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$`)
	roleArnRE       = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	addonVersionRE  = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)-eksbuild\.\d+$`)
	redisVersionRE  = regexp.MustCompile(`^7\.[01]$`)
	sqlIdentifierRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,62}$`)
	imageTagRE      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	imageDigestRE   = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	k8sMinorRE      = regexp.MustCompile(`^1\.(\d+)$`)
	envNameRE       = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	nginxSizeRE     = regexp.MustCompile(`^\d+[kKmMgG]?$`)
	zoneIDRE        = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	semverRE        = regexp.MustCompile(`^v?\d+\.\d+\.\d+$`)
	autoscalerTagRE = regexp.MustCompile(`^v1\.(\d+)\.\d+$`)
	slackChannelRE  = regexp.MustCompile(`^[#@][a-z0-9._-]{1,80}$`)
	poolNameRE      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	stackVersionRE  = regexp.MustCompile(`^([89])\.(\d+)\.\d+$`)
)

// The cluster name prefixes the name of every AWS resource; these limits
// are AWS's, and TestAutonamedResourcesFitAWSLimits synthesizes a stack with
// a cluster name of maxClusterNameLen characters to prove every name fits.
const (
	// maxClusterNameLen keeps "<cluster>-redis" within ElastiCache's 40
	// characters for a replication group ID, the tightest of the limits;
	// IAM role names ("<cluster>-<role>" plus Pulumi's 8 characters of
	// autonaming, 64 at most) leave room for role names of up to 21.
	maxClusterNameLen = 34
	// maxNodeGroupPrefixLen is EKS's 63-character node group name less the
	// 26 characters the provider appends to a name prefix.
	maxNodeGroupPrefixLen = 37
)

// PostgresMajorVersion is the only engine major this program runs.
const PostgresMajorVersion = "15"

// cloudWatchRetentionDays are the only retention periods CloudWatch Logs accepts.
var cloudWatchRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// rdsMonitoringIntervals are the Enhanced Monitoring intervals RDS accepts, in seconds.
var rdsMonitoringIntervals = []int{0, 1, 5, 10, 15, 30, 60}

// redisEvictionPolicies are Redis 7's maxmemory-policy values.
var redisEvictionPolicies = []string{"volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random", "allkeys-random", "volatile-ttl", "noeviction"}

// rdsReservedUsernames cannot be the RDS master user.
var rdsReservedUsernames = []string{"postgres", "rdsadmin", "rdsrepladmin", "rds_superuser", "admin", "root"}

// eksServiceRanges are where EKS accepts the Service CIDR.
var eksServiceRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// Validate checks the whole configuration and returns every problem found.
func (c *Config) Validate() error {
	p := &problems{project: c.Project}
	if !regionRE.MatchString(c.Region) {
		p.add("aws:region", c.Region, "want an AWS region such as us-east-1 (set aws:region)")
	}
	p.duplicates("app.hostnames", c.App.Hostnames)
	// Distinct hostnames can still share a Gateway listener (and TLS
	// Secret) name, which the Gateway would refuse only inside `pulumi up`.
	listeners := map[string]int{}
	for i, h := range c.App.Hostnames {
		name := ListenerName(h)
		if j, dup := listeners[name]; dup && c.App.Hostnames[j] != h {
			p.add(fmt.Sprintf("app.hostnames[%d]", i), h, "its Gateway listener name %s is also app.hostnames[%d]'s (%s); hostnames must differ in more than dots and dashes", name, j, c.App.Hostnames[j])
		}
		listeners[name] = i
	}
	p.duplicates("app.corsOrigins", c.App.CorsOrigins)
	p.duplicates("cluster.publicAccessCidrs", c.Cluster.PublicAccessCidrs)
	for k, v := range c.Tags {
		if k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			p.add("tags", k, "tag keys are 1-128 characters and may not start with aws:")
		}
		if len(v) > 256 {
			p.add("tags."+k, v, "tag values are at most 256 characters")
		}
	}
	c.validateNetwork(p)
	c.validateCluster(p)
	c.validateDatabase(p)
	c.validateCache(p)
	c.validateApp(p)
	c.validateAddOns(p)
	return p.err()
}

func (c *Config) validateNetwork(p *problems) {
	n := c.Network
	if vpc, err := netip.ParsePrefix(n.VpcCidr); err != nil || vpc.Masked() != vpc || !vpc.Addr().Is4() {
		p.add("network.vpcCidr", n.VpcCidr, "want an IPv4 network CIDR such as 10.0.0.0/16")
	} else if vpc.Bits() < minVpcPrefix || vpc.Bits() > maxVpcPrefix {
		p.add("network.vpcCidr", n.VpcCidr, "prefix must be /%d to /%d so that every zone gets public, private and isolated subnets", minVpcPrefix, maxVpcPrefix)
	}
	if len(n.AvailabilityZones) < 2 || len(n.AvailabilityZones) > maxZones {
		p.add("network.availabilityZones", n.AvailabilityZones, "want 2 to %d zones", maxZones)
	}
	seen := map[string]bool{}
	for i, az := range n.AvailabilityZones {
		key := fmt.Sprintf("network.availabilityZones[%d]", i)
		// Zones are checked against a valid region only; a bad region is
		// reported once, above.
		if regionRE.MatchString(c.Region) && (!strings.HasPrefix(az, c.Region) || len(az) != len(c.Region)+1 || az[len(az)-1] < 'a' || az[len(az)-1] > 'z') {
			p.add(key, az, "want a zone of region %s, such as %sa", c.Region, c.Region)
		}
		if seen[az] {
			p.add(key, az, "zone listed twice")
		}
		seen[az] = true
	}
	if n.NatGateways != NatPerZone && n.NatGateways != NatSingle {
		p.add("network.natGateways", n.NatGateways, "want %q or %q", NatPerZone, NatSingle)
	}
	if !slices.Contains(cloudWatchRetentionDays, n.FlowLogRetentionDays) {
		p.add("network.flowLogRetentionDays", n.FlowLogRetentionDays, "want one of CloudWatch's periods %v", cloudWatchRetentionDays)
	}
}

func (c *Config) validateCluster(p *problems) {
	k := c.Cluster
	if !clusterNameRE.MatchString(k.Name) || len(k.Name) > maxClusterNameLen {
		p.add("cluster.name", k.Name, "want 1-%d letters, digits, - or _, starting with a letter or digit (it prefixes ElastiCache IDs, which AWS caps at 40 characters)", maxClusterNameLen)
	}
	if !kubernetesVersionSupported(k.KubernetesVersion) {
		p.add("cluster.kubernetesVersion", k.KubernetesVersion, "want a version from %s to %s", MinKubernetesVersion, MaxKubernetesVersion)
	}
	svc, err := netip.ParsePrefix(k.ServiceCidr)
	switch {
	case err != nil || svc.Masked() != svc || !svc.Addr().Is4():
		p.add("cluster.serviceCidr", k.ServiceCidr, "want an IPv4 network CIDR such as 172.20.0.0/16")
	case svc.Bits() < 12 || svc.Bits() > 24 || !slices.ContainsFunc(eksServiceRanges, func(r netip.Prefix) bool { return r.Contains(svc.Addr()) && r.Bits() <= svc.Bits() }):
		p.add("cluster.serviceCidr", k.ServiceCidr, "EKS wants /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
	default:
		if vpc, err := netip.ParsePrefix(c.Network.VpcCidr); err == nil && vpc.Overlaps(svc) {
			p.add("cluster.serviceCidr", k.ServiceCidr, "overlaps network.vpcCidr %s; pick a range outside the VPC", c.Network.VpcCidr)
		}
	}
	for i, cidr := range k.PublicAccessCidrs {
		key := fmt.Sprintf("cluster.publicAccessCidrs[%d]", i)
		pfx, err := netip.ParsePrefix(cidr)
		switch {
		case err != nil || pfx.Masked() != pfx:
			p.add(key, cidr, "want a network CIDR such as 203.0.113.0/24")
		case pfx.Bits() == 0:
			p.add(key, cidr, "the API endpoint may not be open to the whole internet; list your office, VPN and CI ranges, or none for a private-only endpoint")
		}
	}
	if !roleArnRE.MatchString(k.DeployerRoleArn) {
		p.add("cluster.deployerRoleArn", k.DeployerRoleArn, "want the IAM role ARN that runs `pulumi up`, arn:aws:iam::<account>:role/<name>; it is the only identity given cluster-admin besides cluster.adminRoleArns")
	}
	principals := map[string]string{k.DeployerRoleArn: "cluster.deployerRoleArn"}
	for i, arn := range k.AdminRoleArns {
		key := fmt.Sprintf("cluster.adminRoleArns[%d]", i)
		if !roleArnRE.MatchString(arn) {
			p.add(key, arn, "want an IAM role ARN, arn:aws:iam::<account>:role/<name>")
		}
		if first, dup := principals[arn]; dup {
			p.add(key, arn, "already given access by %s; EKS allows one access entry per principal", first)
		}
		principals[arn] = key
	}
	for i, arn := range k.ViewerRoleArns {
		key := fmt.Sprintf("cluster.viewerRoleArns[%d]", i)
		if !roleArnRE.MatchString(arn) {
			p.add(key, arn, "want an IAM role ARN, arn:aws:iam::<account>:role/<name> (the bootstrap's <name>-%s-preview)", c.Stack)
		}
		if first, dup := principals[arn]; dup {
			p.add(key, arn, "already given access by %s; EKS allows one access entry per principal", first)
		}
		principals[arn] = key
	}
	if r := k.ChartRepository; r != "" {
		if u, err := url.Parse(r); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			p.add("cluster.chartRepository", strconv.Quote(r), "want a Helm chart repository's http or https URL (its index.yaml beside the charts), such as https://charts.example.com/scrolluniversity")
		}
	}
	if r := k.RunnerEgressParameter; r != "none" && !ssmNameRE.MatchString(r) {
		p.add("cluster.runnerEgressParameter", r, "want the SSM parameter the bootstrap writes the runners' egress to (/<name>/delivery/runner-egress-cidrs), or none")
	}
	validateResources(p, "cluster.autoscaler.resources", k.Autoscaler.Resources)
	if !semverRE.MatchString(k.Autoscaler.Chart) {
		p.add("cluster.autoscaler.chart", k.Autoscaler.Chart, "want a pinned chart version such as 9.52.1")
	}
	// Against a refused Kubernetes version, the tag's minor is no news.
	if m := autoscalerTagRE.FindStringSubmatch(k.Autoscaler.ImageTag); !p.has("cluster.kubernetesVersion") && (m == nil || "1."+m[1] != k.KubernetesVersion) {
		p.add("cluster.autoscaler.imageTag", k.Autoscaler.ImageTag, "want the autoscaler release of the control plane's minor version, v%s.N", k.KubernetesVersion)
	}
	if !slices.Contains(AllowedAmiTypes, k.AmiType) {
		p.add("cluster.amiType", k.AmiType, "want one of %v", AllowedAmiTypes)
	}
	if !slices.Contains(cloudWatchRetentionDays, k.LogRetentionDays) {
		p.add("cluster.logRetentionDays", k.LogRetentionDays, "want one of CloudWatch's periods %v", cloudWatchRetentionDays)
	}
	if len(k.NodeGroups) == 0 {
		p.add("cluster.nodeGroups", summary("{}"), "want at least one node group")
	}
	prefixes := map[string]string{}
	for _, name := range sortedKeys(k.NodeGroups) {
		validateNodeGroup(p, "cluster.nodeGroups."+name, name, k.NodeGroups[name], c.Network.AvailabilityZones)
		for _, prefix := range NodeGroupPrefixes(name, k.NodeGroups[name].Zonal, c.Network.AvailabilityZones) {
			if other, dup := prefixes[prefix]; dup {
				p.add("cluster.nodeGroups."+name, name, "its EKS name prefix %q is also node group %s's; rename one", prefix, other)
			}
			prefixes[prefix] = name
		}
	}
	for _, name := range ManagedAddons {
		if _, ok := k.AddonVersions[name]; !ok {
			p.add("cluster.addonVersions."+name, summary("unset"), "want a pinned version; find one with `aws eks describe-addon-versions --kubernetes-version %s --addon-name %s`", k.KubernetesVersion, name)
		}
	}
	for _, name := range sortedKeys(k.AddonVersions) {
		v := k.AddonVersions[name]
		key := "cluster.addonVersions." + name
		m := addonVersionRE.FindStringSubmatch(v)
		switch {
		case !slices.Contains(ManagedAddons, name):
			p.add(key, name, "not an add-on this program installs; want one of %v", ManagedAddons)
		case m == nil:
			p.add(key, v, "want an EKS add-on version such as v1.19.0-eksbuild.1")
		case name == "kube-proxy" && "1."+m[2] != k.KubernetesVersion && !p.has("cluster.kubernetesVersion"):
			// EKS publishes kube-proxy per control-plane minor.
			p.add(key, v, "kube-proxy's minor must be the control plane's: want v%s.N-eksbuild.N", k.KubernetesVersion)
		case name == "aws-ebs-csi-driver" && compareVersions(m[1]+"."+m[2]+"."+m[3], strings.TrimPrefix(MinEBSCSIDriverVersion, "v")) < 0:
			p.add(key, v, "want %s or later: the cluster-scoped IAM policy needs the ebs.csi.aws.com/cluster-name tag that driver adds", MinEBSCSIDriverVersion)
		}
	}
}

func validateNodeGroup(p *problems, key, name string, ng NodeGroupConfig, zones []string) {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		p.add(key, name, "node group names are DNS labels: %s", strings.Join(errs, "; "))
	}
	for _, prefix := range NodeGroupPrefixes(name, ng.Zonal, zones) {
		if len(prefix) > maxNodeGroupPrefixLen {
			p.add(key, name, "the EKS node group name prefix %q is %d characters; EKS allows %d (63 less the provider's 26-character suffix): shorten the group's name", prefix, len(prefix), maxNodeGroupPrefixLen)
			break
		}
	}
	if len(ng.InstanceTypes) == 0 {
		p.add(key+".instanceTypes", summary("[]"), "want at least one EC2 instance type such as m6i.large")
	}
	for i, t := range ng.InstanceTypes {
		if !instanceTypeRE.MatchString(t) {
			p.add(fmt.Sprintf("%s.instanceTypes[%d]", key, i), t, "want an EC2 instance type such as m6i.large")
		} else if why := unpriced("ec2", "EC2 instance types", t); why != "" {
			p.add(fmt.Sprintf("%s.instanceTypes[%d]", key, i), t, "%s", why)
		}
	}
	if ng.CapacityType != "ON_DEMAND" && ng.CapacityType != "SPOT" {
		p.add(key+".capacityType", ng.CapacityType, `want "ON_DEMAND" or "SPOT"`)
	}
	if ng.MinSize < 0 || ng.MinSize > ng.DesiredSize || ng.DesiredSize > ng.MaxSize || ng.MaxSize < 1 {
		p.add(key, summary(fmt.Sprintf("minSize=%d desiredSize=%d maxSize=%d", ng.MinSize, ng.DesiredSize, ng.MaxSize)), "want 0 <= minSize <= desiredSize <= maxSize and maxSize >= 1")
	}
	if ng.DiskSizeGiB < 20 || ng.DiskSizeGiB > 16384 {
		p.add(key+".diskSizeGiB", ng.DiskSizeGiB, "want 20 to 16384 GiB")
	}
	for _, lk := range sortedKeys(ng.Labels) {
		if errs := validation.IsQualifiedName(lk); len(errs) > 0 {
			p.add(key+".labels", lk, "not a Kubernetes label key: %s", strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(ng.Labels[lk]); len(errs) > 0 {
			p.add(key+".labels."+lk, ng.Labels[lk], "not a Kubernetes label value: %s", strings.Join(errs, "; "))
		}
	}
	for i, t := range ng.Taints {
		tk := fmt.Sprintf("%s.taints[%d]", key, i)
		if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
			p.add(tk+".key", t.Key, "not a Kubernetes taint key: %s", strings.Join(errs, "; "))
		}
		if !slices.Contains([]string{"NoSchedule", "PreferNoSchedule", "NoExecute"}, t.Effect) {
			p.add(tk+".effect", t.Effect, "want NoSchedule, PreferNoSchedule or NoExecute")
		}
	}
}

func (c *Config) validateDatabase(p *problems) {
	d := c.Database
	if d.EngineVersion != PostgresMajorVersion {
		p.add("database.engineVersion", d.EngineVersion, "want the major version %q only: RDS applies minor upgrades itself, and a pinned minor makes the next update after one ask for a downgrade", PostgresMajorVersion)
	}
	if !strings.HasPrefix(d.InstanceClass, "db.") || !instanceTypeRE.MatchString(strings.TrimPrefix(d.InstanceClass, "db.")) {
		p.add("database.instanceClass", d.InstanceClass, "want an RDS instance class such as db.r6g.large")
	} else if why := unpriced("rds", "RDS instance classes", d.InstanceClass); why != "" {
		p.add("database.instanceClass", d.InstanceClass, "%s", why)
	}
	if d.AllocatedStorageGiB < 20 || d.AllocatedStorageGiB > 65536 {
		p.add("database.allocatedStorageGiB", d.AllocatedStorageGiB, "want 20 to 65536 GiB")
	}
	if d.MaxAllocatedStorageGiB <= d.AllocatedStorageGiB || d.MaxAllocatedStorageGiB > 65536 {
		p.add("database.maxAllocatedStorageGiB", d.MaxAllocatedStorageGiB, "want more than allocatedStorageGiB (%d) and at most 65536 GiB, so that storage can autoscale", d.AllocatedStorageGiB)
	}
	if d.ReadReplicas < 0 || d.ReadReplicas > 5 {
		p.add("database.readReplicas", d.ReadReplicas, "want 0 to 5")
	}
	if d.BackupRetentionDays < 1 || d.BackupRetentionDays > 35 {
		p.add("database.backupRetentionDays", d.BackupRetentionDays, "want 1 to 35 days; 0 would turn off backups and point-in-time recovery")
	}
	validateWindows(p, "RDS", 30, "database.backupWindow", d.BackupWindow, "database.maintenanceWindow", d.MaintenanceWindow)
	if !slices.Contains(rdsMonitoringIntervals, d.MonitoringIntervalSeconds) {
		p.add("database.monitoringIntervalSeconds", d.MonitoringIntervalSeconds, "want one of %v", rdsMonitoringIntervals)
	}
	if !sqlIdentifierRE.MatchString(d.Name) {
		p.add("database.name", d.Name, "want a letter then up to 62 letters, digits or _")
	}
	if !sqlIdentifierRE.MatchString(d.Username) || slices.Contains(rdsReservedUsernames, strings.ToLower(d.Username)) {
		p.add("database.username", d.Username, "want a letter then up to 62 letters, digits or _, not one of %v", rdsReservedUsernames)
	}
	if d.Pool.Min < 1 || d.Pool.Min > d.Pool.Max {
		p.add("database.pool", summary(fmt.Sprintf("min=%d max=%d", d.Pool.Min, d.Pool.Max)), "want 1 <= min <= max")
	}
	if d.ConnectionHeadroom < 0 {
		p.add("database.connectionHeadroom", d.ConnectionHeadroom, "want 0 or more connections")
	}
	if d.SlowQueryMs < 1 {
		p.add("database.slowQueryMs", d.SlowQueryMs, "want a threshold of 1 ms or more")
	}
}

// validateWindows checks a service's daily backup (or snapshot) window and
// its weekly maintenance window: each well-formed and at least minMinutes
// long, and not overlapping, which AWS refuses mid-deployment.
func validateWindows(p *problems, service string, minMinutes int, dailyKey, daily, weeklyKey, weekly string) {
	d, dLen, derr := ParseDailyWindow(daily)
	if derr != nil {
		p.add(dailyKey, daily, "%v", derr)
	} else if dLen < minMinutes {
		p.add(dailyKey, daily, "%s wants at least %d minutes", service, minMinutes)
	}
	w, wLen, werr := ParseWeeklyWindow(weekly)
	if werr != nil {
		p.add(weeklyKey, weekly, "%v", werr)
	} else if wLen < minMinutes {
		p.add(weeklyKey, weekly, "%s wants at least %d minutes", service, minMinutes)
	}
	if derr == nil && werr == nil && WindowsOverlap(d, w) {
		p.add(weeklyKey, weekly, "overlaps %s %q; %s refuses overlapping windows", dailyKey, daily, service)
	}
}

func (c *Config) validateCache(p *problems) {
	r := c.Cache
	if !redisVersionRE.MatchString(r.EngineVersion) {
		p.add("cache.engineVersion", r.EngineVersion, `want a Redis 7 version, "7.0" or "7.1"`)
	}
	if !strings.HasPrefix(r.NodeType, "cache.") || !instanceTypeRE.MatchString(strings.TrimPrefix(r.NodeType, "cache.")) {
		p.add("cache.nodeType", r.NodeType, "want an ElastiCache node type such as cache.r7g.large")
	} else if why := unpriced("elasticache", "ElastiCache node types", r.NodeType); why != "" {
		p.add("cache.nodeType", r.NodeType, "%s", why)
	}
	if r.Replicas < 0 || r.Replicas > 5 {
		p.add("cache.replicas", r.Replicas, "want 0 to 5 replicas")
	}
	if r.Replicas > 0 && !r.AutomaticFailover {
		p.add("cache.automaticFailover", r.AutomaticFailover, "cache.replicas is %d: replicas without automatic failover leave a dead primary in place; set it to true", r.Replicas)
	}
	if r.AutomaticFailover && r.Replicas < 1 {
		p.add("cache.automaticFailover", r.AutomaticFailover, "needs cache.replicas >= 1 to fail over to")
	}
	if r.SnapshotRetentionDays < 1 || r.SnapshotRetentionDays > 35 {
		p.add("cache.snapshotRetentionDays", r.SnapshotRetentionDays, "want 1 to 35 days; 0 would turn off snapshots")
	}
	validateWindows(p, "ElastiCache", 60, "cache.snapshotWindow", r.SnapshotWindow, "cache.maintenanceWindow", r.MaintenanceWindow)
	if !slices.Contains(redisEvictionPolicies, r.MaxmemoryPolicy) {
		p.add("cache.maxmemoryPolicy", r.MaxmemoryPolicy, "want one of %v", redisEvictionPolicies)
	}
}

func (c *Config) validateApp(p *problems) {
	a := c.App
	if errs := validation.IsDNS1123Label(a.Namespace); len(errs) > 0 {
		p.add("app.namespace", a.Namespace, "not a Kubernetes namespace name: %s", strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(a.BackendServiceAccount); len(errs) > 0 {
		p.add("app.backendServiceAccount", a.BackendServiceAccount, "not a Kubernetes service account name: %s", strings.Join(errs, "; "))
	}
	if len(a.Hostnames) == 0 {
		p.add("app.hostnames", summary("[]"), "want at least one public hostname such as app.example.com")
	}
	for i, h := range a.Hostnames {
		if errs := validation.IsDNS1123Subdomain(h); len(errs) > 0 || !strings.Contains(h, ".") {
			p.add(fmt.Sprintf("app.hostnames[%d]", i), h, "want a fully qualified lower-case hostname such as app.example.com")
		}
	}
	for _, w := range []struct {
		key string
		cfg WorkloadConfig
	}{{"app.backend", a.Backend}, {"app.frontend", a.Frontend}} {
		switch {
		case w.cfg.ImageTag == "" || w.cfg.ImageTag == "latest":
			p.add(w.key+".imageTag", w.cfg.ImageTag, "want a release tag or sha256 digest; latest and empty tags make rollouts unrepeatable")
		case !imageTagRE.MatchString(w.cfg.ImageTag) && !imageDigestRE.MatchString(w.cfg.ImageTag):
			p.add(w.key+".imageTag", w.cfg.ImageTag, "want an image tag ([A-Za-z0-9_.-], up to 128) or sha256:<64 hex>")
		}
		if w.cfg.MinReplicas < 1 || w.cfg.MinReplicas > w.cfg.MaxReplicas {
			p.add(w.key, summary(fmt.Sprintf("minReplicas=%d maxReplicas=%d", w.cfg.MinReplicas, w.cfg.MaxReplicas)), "want 1 <= minReplicas <= maxReplicas")
		}
		validateResources(p, w.key+".resources", w.cfg.Resources)
	}
	c.validateQuota(p)
	c.validateNodePool(p)
	if a.Gateway.Replicas < 2 {
		p.add("app.gateway.replicas", a.Gateway.Replicas, "want 2 or more: all public traffic passes through these NGINX pods, and one pod is a single point of failure")
	}
	validateResources(p, "app.gateway.resources", a.Gateway.Resources)
	for _, name := range sortedKeys(a.Controllers) {
		if !slices.Contains(ControllerNames, name) {
			p.add("app.controllers."+name, name, "%s", unknownKey(name, ControllerNames))
			continue
		}
		validateResources(p, "app.controllers."+name, a.Controllers[name])
	}
	for _, k := range sortedKeys(a.Settings) {
		switch {
		case !envNameRE.MatchString(k):
			p.add("app.settings", k, "setting names are environment variables: [A-Z_][A-Z0-9_]*")
		case rules.SecretLikeKey(k):
			p.add("app.settings."+k, k, "looks like a credential (PASSWORD, SECRET, TOKEN, KEY...); ConfigMaps are not secret, so it belongs in secret stack config and the app's Secret")
		}
	}
	for i, o := range a.CorsOrigins {
		if a.corsFromHostnames && p.has("app.hostnames") {
			break // derived from a refused hostname: the hostname is the cause
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" || o == "https://*" {
			p.add(fmt.Sprintf("app.corsOrigins[%d]", i), o, "want an https origin such as https://app.example.com (no path, no wildcard)")
		}
	}
	if a.RateLimit.RequestsPerSecond < 1 || a.RateLimit.Burst < 0 {
		p.add("app.rateLimit", summary(fmt.Sprintf("requestsPerSecond=%d burst=%d", a.RateLimit.RequestsPerSecond, a.RateLimit.Burst)), "want requestsPerSecond >= 1 and burst >= 0")
	}
	if !nginxSizeRE.MatchString(a.MaxBodySize) {
		p.add("app.maxBodySize", a.MaxBodySize, "want an NGINX size such as 25m or 512k")
	}
	if a.RequestTimeoutSeconds < 1 || a.RequestTimeoutSeconds > 3600 {
		p.add("app.requestTimeoutSeconds", a.RequestTimeoutSeconds, "want 1 to 3600 seconds")
	}
	if !strings.HasPrefix(a.WebSocketPath, "/") || a.WebSocketPath == "/" || strings.HasPrefix(a.WebSocketPath, "/api") {
		p.add("app.webSocketPath", a.WebSocketPath, "want a path of its own such as /socket.io")
	}
	if len(a.MigrateCommand) == 0 {
		p.add("app.migrateCommand", summary("[]"), "want the command that applies migrations, e.g. [npx, prisma, migrate, deploy]")
	}
	if i := strings.LastIndex(a.WaitImage, ":"); i < 0 || strings.HasSuffix(a.WaitImage, ":latest") || strings.Contains(a.WaitImage[i:], "/") {
		p.add("app.waitImage", a.WaitImage, "want an image pinned to a tag or digest, such as busybox:1.37.0")
	}
	if _, err := mail.ParseAddress(a.AcmeEmail); err != nil || !strings.Contains(a.AcmeEmail, "@") {
		p.add("app.acmeEmail", a.AcmeEmail, "want the email Let's Encrypt sends expiry notices to")
	}
	if u, err := url.Parse(a.AcmeServer); err != nil || u.Scheme != "https" {
		p.add("app.acmeServer", a.AcmeServer, "want an https ACME directory URL")
	}
	if !zoneIDRE.MatchString(a.Route53ZoneId) {
		p.add("app.route53ZoneId", a.Route53ZoneId, "want the Route 53 hosted zone ID of the hostnames, such as Z0123456789ABCDEFGHIJ")
	}
	charts := map[string]string{
		"gatewayApi": a.Charts.GatewayAPI, "gatewayFabric": a.Charts.GatewayFabric, "certManager": a.Charts.CertManager,
		"loadBalancerController": a.Charts.LoadBalancerController, "externalDns": a.Charts.ExternalDNS,
	}
	for _, k := range sortedKeys(charts) {
		if !semverRE.MatchString(charts[k]) {
			p.add("app.charts."+k, charts[k], "want a pinned version such as 1.2.3 or v1.2.3")
		}
	}
}

// duplicates reports every list entry that repeats an earlier one.
func (p *problems) duplicates(key string, list []string) {
	first := map[string]int{}
	for i, v := range list {
		if j, dup := first[v]; dup {
			p.add(fmt.Sprintf("%s[%d]", key, i), v, "listed twice (also %s[%d])", key, j)
			continue
		}
		first[v] = i
	}
}

// validateResources checks that quantities parse and requests <= limits.
func validateResources(p *problems, key string, r ResourcesConfig) {
	parsed := map[string]resource.Quantity{}
	for name, v := range map[string]string{
		"requestsCpu": r.RequestsCpu, "requestsMemory": r.RequestsMemory, "limitsCpu": r.LimitsCpu, "limitsMemory": r.LimitsMemory,
		"requestsEphemeralStorage": r.RequestsEphemeralStorage, "limitsEphemeralStorage": r.LimitsEphemeralStorage,
	} {
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			p.add(key+"."+name, v, "want a positive Kubernetes quantity such as 250m or 512Mi")
			continue
		}
		parsed[name] = q
	}
	for _, pair := range [][2]string{{"requestsCpu", "limitsCpu"}, {"requestsMemory", "limitsMemory"}, {"requestsEphemeralStorage", "limitsEphemeralStorage"}} {
		req, ok1 := parsed[pair[0]]
		lim, ok2 := parsed[pair[1]]
		if ok1 && ok2 && req.Cmp(lim) > 0 {
			p.add(key+"."+pair[0], req.String(), "exceeds %s %s", pair[1], lim.String())
		}
	}
}

// QuotaNeed is what the app namespace must hold at the HPA maximums: every
// replica of both workloads, a rolling update's surge of each (25%, rounded
// up), the migration Job (one backend-sized pod), and one pod of each
// backup CronJob (the Backups component runs them in this namespace).
func (a AppConfig) QuotaNeed() (requestsCpu, requestsMemory, limitsCpu, limitsMemory resource.Quantity, pods int) {
	add := func(q *resource.Quantity, per string, n int) {
		v, err := resource.ParseQuantity(per)
		if err != nil {
			return
		}
		v.Mul(int64(n))
		q.Add(v)
	}
	requestsCpu, requestsMemory = resource.MustParse("0"), resource.MustParse("0")
	limitsCpu, limitsMemory = resource.MustParse("0"), resource.MustParse("0")
	backendPods := a.Backend.MaxReplicas + Surge(a.Backend.MaxReplicas) + 1
	frontendPods := a.Frontend.MaxReplicas + Surge(a.Frontend.MaxReplicas)
	for _, w := range []struct {
		r ResourcesConfig
		n int
	}{{a.Backend.Resources, backendPods}, {a.Frontend.Resources, frontendPods}, {BackupJobResources, BackupPods}} {
		add(&requestsCpu, w.r.RequestsCpu, w.n)
		add(&requestsMemory, w.r.RequestsMemory, w.n)
		add(&limitsCpu, w.r.LimitsCpu, w.n)
		add(&limitsMemory, w.r.LimitsMemory, w.n)
	}
	return requestsCpu, requestsMemory, limitsCpu, limitsMemory, backendPods + frontendPods + BackupPods
}

// SurgePercent is the rolling update's maxSurge: new pods start before old
// ones stop (maxUnavailable is 0).
const SurgePercent = 25

// Surge is how many extra pods a rollout of n replicas starts at once.
func Surge(n int) int { return (n*SurgePercent + 99) / 100 }

func (c *Config) validateQuota(p *problems) {
	q := c.App.Quota
	needCPU, needMem, needLimCPU, needLimMem, needPods := c.App.QuotaNeed()
	for _, f := range []struct {
		key, value string
		need       resource.Quantity
	}{
		{"requestsCpu", q.RequestsCpu, needCPU}, {"requestsMemory", q.RequestsMemory, needMem},
		{"limitsCpu", q.LimitsCpu, needLimCPU}, {"limitsMemory", q.LimitsMemory, needLimMem},
	} {
		have, err := resource.ParseQuantity(f.value)
		switch {
		case err != nil:
			p.add("app.quota."+f.key, f.value, "want a Kubernetes quantity such as 8 or 16Gi")
		case have.Cmp(f.need) < 0:
			p.add("app.quota."+f.key, f.value, "too small: both workloads at their HPA maximums, a rollout's surge, the migration Job and the backup jobs need %s", f.need.String())
		}
	}
	if q.Pods < needPods {
		p.add("app.quota.pods", q.Pods, "too small: the HPA maximums, a rollout's surge, the migration Job and the backup jobs need %d pods", needPods)
	}
}

// validateNodePool checks that the app's node group exists, is zonal, and
// can hold every replica during a rollout: replicas of one workload never
// share a node (required anti-affinity), a rollout starts its surge before
// an old pod stops (maxUnavailable 0), and pods spread evenly over the zones
// (maxSkew 1, DoNotSchedule), so each zone's group needs
// ceil((maxReplicas + surge) / zones) nodes.
func (c *Config) validateNodePool(p *problems) {
	ng, ok := c.Cluster.NodeGroups[c.App.NodePool]
	if !ok {
		p.add("app.nodePool", c.App.NodePool, "no such node group in cluster.nodeGroups %v", sortedKeys(c.Cluster.NodeGroups))
		return
	}
	key := "cluster.nodeGroups." + c.App.NodePool
	if !ng.Zonal {
		p.add(key+".zonal", ng.Zonal, "the app's pods spread across zones with DoNotSchedule, which the Cluster Autoscaler can satisfy only with one node group per zone; set it to true")
		return
	}
	if need := c.App.NodesPerZone(len(c.Network.AvailabilityZones)); ng.MaxSize < need {
		p.add(key+".maxSize", ng.MaxSize, "too small: a rollout at the HPA maximum needs %d nodes per zone (one pod per node, maxReplicas plus a %d%% surge spread over %d zones)", need, SurgePercent, len(c.Network.AvailabilityZones))
	}
}

// NodesPerZone is how many nodes of the app's pool each zone needs for the
// largest workload at its HPA maximum plus a rollout's surge.
func (a AppConfig) NodesPerZone(zones int) int {
	if zones < 1 {
		return 0
	}
	need := 0
	for _, w := range []WorkloadConfig{a.Backend, a.Frontend} {
		pods := w.MaxReplicas + Surge(w.MaxReplicas)
		need = max(need, (pods+zones-1)/zones)
	}
	return need
}

// NodeGroupPrefixes are the EKS name prefixes of a configured group: one,
// or one per zone when zonal. Names are unique per cluster, so the prefix
// need not repeat the cluster's name.
func NodeGroupPrefixes(name string, zonal bool, zones []string) []string {
	if !zonal {
		return []string{name + "-"}
	}
	out := make([]string, 0, len(zones))
	for _, z := range zones {
		out = append(out, name+"-"+z+"-")
	}
	return out
}

// validateAddOns checks the sections of the platform's add-on components.
func (c *Config) validateAddOns(p *problems) {
	positive := []struct {
		key   string
		value int
	}{
		{"uploads.noncurrentVersionDays", c.Uploads.NoncurrentVersionDays},
		{"uploads.abortIncompleteMultipartDays", c.Uploads.AbortIncompleteMultipartDays},
	}
	for _, v := range positive {
		if v.value < 1 {
			p.add(v.key, v.value, "want 1 or more")
		}
	}
	c.validateObservability(p)
	c.validateLogging(p)
	c.validateBackups(p)
	c.validateAudit(p)
	c.validateCDN(p)
}

// cdnPriceClasses are CloudFront's price classes.
var cdnPriceClasses = []string{"PriceClass_100", "PriceClass_200", "PriceClass_All"}

// cdnPathRE is what a CloudFront cache behaviour's path pattern may hold
// (A-Z, a-z, 0-9, _ - . $ / ~ " ' @ : + and the wildcards * and ?), here
// starting with "/".
var cdnPathRE = regexp.MustCompile(`^/[A-Za-z0-9_\-.$/~"'@:+*?&]*$`)

// maxStaticPaths keeps the distribution within CloudFront's 25 cache
// behaviours (a default quota) with the four the program adds.
const maxStaticPaths = 20

func (c *Config) validateCDN(p *problems) {
	d := c.CDN
	if !d.Enabled {
		return
	}
	// The WAF of a CloudFront distribution publishes its metrics in
	// us-east-1 only; the stack's cloudwatch_exporter reads one region
	// (its config's top-level region, v0.18.0), the stack's.
	if regionRE.MatchString(c.Region) && c.Region != "us-east-1" {
		p.add("cdn.enabled", d.Enabled, "the WAF's metrics (its blocked-requests alert) are in us-east-1 and the CloudWatch exporter reads only the stack's region %s: deploy in us-east-1 or set cdn.enabled false", c.Region)
	}
	if !slices.Contains(cdnPriceClasses, d.PriceClass) {
		p.add("cdn.priceClass", d.PriceClass, "want one of %v", cdnPriceClasses)
	}
	if len(d.StaticPaths) > maxStaticPaths {
		p.add("cdn.staticPaths", summary(fmt.Sprintf("%d paths", len(d.StaticPaths))), "want at most %d (CloudFront's 25 cache behaviours per distribution, 4 of them the program's)", maxStaticPaths)
	}
	p.duplicates("cdn.staticPaths", d.StaticPaths)
	for i, path := range d.StaticPaths {
		key := fmt.Sprintf("cdn.staticPaths[%d]", i)
		switch {
		case !cdnPathRE.MatchString(path) || len(path) > 255:
			p.add(key, path, "want a CloudFront path pattern starting with /, such as /assets/*")
		case overlaps(path, "/api"), overlaps(path, c.App.WebSocketPath), overlaps(path, acmeChallengePrefix):
			p.add(key, path, "would cache a path of the API, the WebSocket (app.webSocketPath %s) or ACME's challenges; static paths are the frontend's only", c.App.WebSocketPath)
		}
	}
	if d.RateLimitPerFiveMinutes < 10 || d.RateLimitPerFiveMinutes > 2000000000 {
		p.add("cdn.rateLimitPerFiveMinutes", d.RateLimitPerFiveMinutes, "want 10 to 2000000000 requests (AWS WAF's rate-based rule limits)")
	}
	if d.BlockedRequestsAlert < 1 {
		p.add("cdn.blockedRequestsAlert", d.BlockedRequestsAlert, "want 1 or more blocked requests in five minutes")
	}
	if !slices.Contains(cloudWatchRetentionDays, d.LogRetentionDays) {
		p.add("cdn.logRetentionDays", d.LogRetentionDays, "want one of CloudWatch's periods %v", cloudWatchRetentionDays)
	}
	h := d.OriginHostname
	if p.has("app.hostnames") && len(c.App.Hostnames) > 0 && h == "origin."+c.App.Hostnames[0] {
		return // derived from a hostname already reported
	}
	if errs := validation.IsDNS1123Subdomain(h); len(errs) > 0 || !strings.Contains(h, ".") {
		p.add("cdn.originHostname", h, "want a fully qualified lower-case hostname such as origin.app.example.com")
	} else if slices.Contains(c.App.Hostnames, h) {
		p.add("cdn.originHostname", h, "is one of app.hostnames, which point at CloudFront; the origin needs a name of its own")
	} else if !underAny(h, c.App.Hostnames) {
		p.add("cdn.originHostname", h, "want a name under one of app.hostnames %v: external-dns manages only those domains (their zone, app.route53ZoneId)", c.App.Hostnames)
	}
}

// acmeChallengePrefix is where ACME's HTTP-01 challenges are asked for.
const acmeChallengePrefix = "/.well-known/acme-challenge/"

// overlaps says whether a CloudFront path pattern could match a request
// under prefix: the part before its first wildcard and the prefix agree
// as far as both go.
func overlaps(pattern, prefix string) bool {
	if prefix == "" {
		return false
	}
	literal := pattern
	if i := strings.IndexAny(pattern, "*?"); i >= 0 {
		literal = pattern[:i]
	}
	n := min(len(literal), len(prefix))
	return literal[:n] == prefix[:n]
}

// underAny says whether host is a subdomain of one of the domains.
func underAny(host string, domains []string) bool {
	for _, d := range domains {
		if strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// trailArnRE is a CloudTrail trail's ARN.
var trailArnRE = regexp.MustCompile(`^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:[0-9]{12}:trail/[A-Za-z0-9._-]{3,128}$`)

func (c *Config) validateAudit(p *problems) {
	a := c.Audit
	switch a.Trail {
	case TrailCreate:
		if a.ExistingTrailArn != "" {
			p.add("audit.existingTrailArn", a.ExistingTrailArn, "set only with audit.trail %q; with %q the stack makes its own trail", TrailExisting, TrailCreate)
		}
	case TrailExisting:
		if !trailArnRE.MatchString(a.ExistingTrailArn) {
			p.add("audit.existingTrailArn", a.ExistingTrailArn, "with audit.trail %q, want the ARN of the trail that records the account, arn:aws:cloudtrail:<region>:<account>:trail/<name>", TrailExisting)
		}
	default:
		p.add("audit.trail", a.Trail, "want %q (the stack makes the account's trail) or %q (a trail already records the account)", TrailCreate, TrailExisting)
	}
	if a.RetentionDays < 1 || a.RetentionDays > 3653 {
		p.add("audit.retentionDays", a.RetentionDays, "want 1 to 3653 days")
	} else if c.Cluster.LogRetentionDays < a.RetentionDays {
		p.add("cluster.logRetentionDays", c.Cluster.LogRetentionDays, "the EKS control-plane logs hold the Kubernetes audit log: keep them at least audit.retentionDays (%d), one of CloudWatch's periods %v", a.RetentionDays, cloudWatchRetentionDays)
	}
}

// compareVersions compares dotted numeric versions ("1.58.0"): -1, 0, 1.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := 0, 0
		if i < len(as) {
			x = atoi(as[i])
		}
		if i < len(bs) {
			y = atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// kubernetesVersionSupported reports whether v is "1.NN" inside the window.
func kubernetesVersionSupported(v string) bool {
	m := k8sMinorRE.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	minor := atoi(m[1])
	lo := atoi(strings.TrimPrefix(MinKubernetesVersion, "1."))
	hi := atoi(strings.TrimPrefix(MaxKubernetesVersion, "1."))
	return minor >= lo && minor <= hi
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validateObservability checks the observability section.
func (c *Config) validateObservability(p *problems) {
	o := c.Observability
	if !semverRE.MatchString(o.Chart) || strings.HasPrefix(o.Chart, "v") {
		p.add("observability.chart", o.Chart, "want the kube-prometheus-stack chart version, such as 88.5.3")
	}
	if !poolNameRE.MatchString(o.NodePool) {
		p.add("observability.nodePool", o.NodePool, "want a node group's scrolluniversity.io/pool label, such as workload")
	}
	p.within(
		intRange{"observability.prometheus.replicas", o.Prometheus.Replicas, 1, 3, "each replica scrapes everything; more than 3 only multiplies the load"},
		intRange{"observability.prometheus.retentionDays", o.Prometheus.RetentionDays, 1, 365, ""},
		intRange{"observability.prometheus.storageGiB", o.Prometheus.StorageGiB, 10, 16384, "gp3 volumes are at most 16 TiB"},
		intRange{"observability.alertmanager.replicas", o.Alertmanager.Replicas, 1, 5, ""},
		intRange{"observability.alertmanager.storageGiB", o.Alertmanager.StorageGiB, 1, 100, ""},
		intRange{"observability.thresholds.replicaLagSeconds", o.Thresholds.ReplicaLagSeconds, 1, 3600, ""},
		intRange{"observability.thresholds.certificateExpiryDays", o.Thresholds.CertificateExpiryDays, 1, 29, "cert-manager renews 30 days before expiry, so a later warning means renewal failed"},
		intRange{"observability.thresholds.backupMaxAgeHours", o.Thresholds.BackupMaxAgeHours, 7, 168, "the database backup runs every 6 hours"},
	)
	if r := o.Prometheus.RetentionSizeGiB; r < 1 || r >= o.Prometheus.StorageGiB {
		p.add("observability.prometheus.retentionSizeGiB", r, "want 1 or more and below observability.prometheus.storageGiB (%d): the write-ahead log and compaction need room on the volume", o.Prometheus.StorageGiB)
	}
	if f := o.Thresholds.DatabaseFreeStorageGiB; f < 1 || f >= c.Database.AllocatedStorageGiB {
		p.add("observability.thresholds.databaseFreeStorageGiB", f, "want 1 or more and below database.allocatedStorageGiB (%d)", c.Database.AllocatedStorageGiB)
	}
	ratios := []struct {
		key   string
		value float64
	}{
		{"observability.slo.routeErrorRatio", o.SLO.RouteErrorRatio},
		{"observability.thresholds.poolUtilization", o.Thresholds.PoolUtilization},
		{"observability.thresholds.resourceUtilization", o.Thresholds.ResourceUtilization},
		{"observability.thresholds.redisHitRatio", o.Thresholds.RedisHitRatio},
	}
	for _, r := range ratios {
		if r.value <= 0 || r.value >= 1 {
			p.add(r.key, r.value, "want a fraction between 0 and 1, such as 0.05 for 5%%")
		}
	}
	validateSLO(p, o.SLO)
	if v := o.Thresholds.AIDailyBudgetUsd; v <= 0 {
		p.add("observability.thresholds.aiDailyBudgetUsd", v, "want a daily budget in US dollars above 0")
	}
	validateResources(p, "observability.prometheus.resources", o.Prometheus.Resources)
	validateResources(p, "observability.alertmanager.resources", o.Alertmanager.Resources)
	validateResources(p, "observability.grafana.resources", o.Grafana.Resources)

	r := o.Receivers
	if !slackChannelRE.MatchString(r.SlackChannel) {
		p.add("observability.receivers.slackChannel", r.SlackChannel, "want a Slack channel such as #platform-alerts")
	}
	for _, e := range []struct{ key, value string }{
		{"observability.receivers.emailTo", r.EmailTo},
		{"observability.receivers.emailFrom", r.EmailFrom},
	} {
		if a, err := mail.ParseAddress(e.value); err != nil || a.Address != e.value {
			p.add(e.key, e.value, "want an email address such as oncall@example.com")
		}
	}
	if host, port, err := net.SplitHostPort(r.SmtpSmarthost); err != nil || host == "" || port == "" {
		p.add("observability.receivers.smtpSmarthost", r.SmtpSmarthost, "want host:port, such as email-smtp.us-east-1.amazonaws.com:587")
	}
	if strings.TrimSpace(r.SmtpUsername) == "" {
		p.add("observability.receivers.smtpUsername", r.SmtpUsername, "want the SMTP user (for Amazon SES, the SMTP credentials' user name)")
	}
	p.pinnedImages(
		keyValue{"observability.images.postgresExporter", o.Images.PostgresExporter},
		keyValue{"observability.images.redisExporter", o.Images.RedisExporter},
		keyValue{"observability.images.cloudwatchExporter", o.Images.CloudWatchExporter},
		keyValue{"observability.images.blackboxExporter", o.Images.BlackboxExporter},
		keyValue{"observability.images.postgres", o.Images.Postgres},
	)
}

// intRange is a whole-number setting and its bounds; why, if any, says
// where they come from.
type intRange struct {
	key             string
	value, min, max int
	why             string
}

// within reports every setting outside its bounds.
func (p *problems) within(rs ...intRange) {
	for _, r := range rs {
		if r.value >= r.min && r.value <= r.max {
			continue
		}
		if r.why != "" {
			p.add(r.key, r.value, "want %d to %d: %s", r.min, r.max, r.why)
		} else {
			p.add(r.key, r.value, "want %d to %d", r.min, r.max)
		}
	}
}

// keyValue is a text setting.
type keyValue struct{ key, value string }

// pinnedImages reports every image not pinned by a tag or digest.
func (p *problems) pinnedImages(images ...keyValue) {
	for _, img := range images {
		if !PinnedImage(img.value) {
			p.add(img.key, img.value, "want an image pinned by a release tag or digest, such as repo/name:v1.2.3")
		}
	}
}

// PinnedImage reports whether ref names an image by a tag other than
// latest, or by digest.
func PinnedImage(ref string) bool {
	if repo, digest, ok := strings.Cut(ref, "@"); ok {
		return repo != "" && imageDigestRE.MatchString(digest)
	}
	i := strings.LastIndex(ref, ":")
	if i <= 0 || strings.Contains(ref[i:], "/") {
		return false
	}
	tag := ref[i+1:]
	return tag != "latest" && imageTagRE.MatchString(tag)
}

// validateLogging checks the logging section.
func (c *Config) validateLogging(p *problems) {
	l := c.Logging
	if n := l.ElasticsearchNodes; n != 1 && n < 3 {
		p.add("logging.elasticsearchNodes", n, "want 1 (no high availability) or 3 or more (a master quorum); 2 nodes cannot elect a master when one fails")
	}
	if !semverRE.MatchString(l.OperatorChart) || strings.HasPrefix(l.OperatorChart, "v") {
		p.add("logging.operatorChart", l.OperatorChart, "want the eck-operator chart version, such as 3.5.0")
	}
	// ECK 3.5 runs Elasticsearch 8.x from 8.0 and 9.x; Logstash from 8.12.
	if m := stackVersionRE.FindStringSubmatch(l.StackVersion); m == nil || (m[1] == "8" && atoi(m[2]) < 12) {
		p.add("logging.stackVersion", l.StackVersion, "want an Elastic Stack version ECK 3.5 runs for all four products: 8.12.0 or later 8.x, or 9.x, such as 9.4.3")
	}
	if _, ok := c.Cluster.NodeGroups[l.NodePool]; !ok {
		p.add("logging.nodePool", l.NodePool, "no such node group in cluster.nodeGroups %v", sortedKeys(c.Cluster.NodeGroups))
	}
	if _, ok := c.Cluster.NodeGroups[c.Observability.NodePool]; !ok {
		p.add("observability.nodePool", c.Observability.NodePool, "no such node group in cluster.nodeGroups %v", sortedKeys(c.Cluster.NodeGroups))
	}
	c.validatePoolsSelectable(p)
	p.within(
		intRange{"logging.storageGiB", l.StorageGiB, 10, 16384, ""},
		intRange{"logging.heapGiB", l.HeapGiB, 1, 31, ""},
		intRange{"logging.retentionDays", l.RetentionDays, 1, 3650, ""},
		intRange{"logging.rolloverGiB", l.RolloverGiB, 1, 50, ""},
		intRange{"logging.rolloverHours", l.RolloverHours, 1, 720, ""},
		intRange{"logging.kibanaReplicas", l.KibanaReplicas, 1, 5, ""},
		intRange{"logging.logstashReplicas", l.LogstashReplicas, 1, 10, ""},
		intRange{"logging.logstashQueueGiB", l.LogstashQueueGiB, 2, 1000, ""},
	)
	if l.RolloverGiB*100 > l.StorageGiB*maxRolloverShare && l.StorageGiB > 0 {
		p.add("logging.rolloverGiB", l.RolloverGiB, "want at most %d%% of logging.storageGiB (%d GiB): a write index that large passes Elasticsearch's disk watermarks before it rolls over", maxRolloverShare, l.StorageGiB*maxRolloverShare/100)
	}
	validateResources(p, "logging.elasticsearch", l.Elasticsearch)
	if mem, err := resource.ParseQuantity(l.Elasticsearch.LimitsMemory); err == nil && l.HeapGiB > 0 {
		if heap := resource.MustParse(fmt.Sprintf("%dGi", 2*l.HeapGiB)); heap.Cmp(mem) > 0 {
			p.add("logging.heapGiB", l.HeapGiB, "at most half of logging.elasticsearch.limitsMemory (%s): the rest is Lucene's filesystem cache", mem.String())
		}
	}
	p.pinnedImages(
		keyValue{"logging.images.elasticsearchExporter", l.Images.ElasticsearchExporter},
		keyValue{"logging.images.curl", l.Images.Curl},
	)
}

// validateBackups checks the backups section.
func (c *Config) validateBackups(p *problems) {
	b := c.Backups
	for _, s := range []struct{ key, value string }{
		{"backups.databaseSchedule", b.DatabaseSchedule},
		{"backups.appSchedule", b.AppSchedule},
		{"backups.drillSchedule", b.DrillSchedule},
	} {
		if _, err := cron.ParseStandard(s.value); err != nil || strings.HasPrefix(s.value, "@") || strings.HasPrefix(s.value, "TZ=") || strings.HasPrefix(s.value, "CRON_TZ=") {
			p.add(s.key, s.value, "want a 5-field cron expression in UTC such as \"0 2 * * *\"")
		}
	}
	p.within(
		intRange{"backups.databaseRetentionDays", b.DatabaseRetentionDays, 1, 3650, ""},
		intRange{"backups.appRetentionDays", b.AppRetentionDays, 1, 3650, ""},
		intRange{"backups.noncurrentDays", b.NoncurrentDays, 1, 365, ""},
		intRange{"backups.scratchGiB", b.ScratchGiB, 1, 1000, ""},
		intRange{"backups.drillFreshness.maxAgeHours", b.DrillFreshness.MaxAgeHours, 0, 8760, " (0: no freshness check)"},
		intRange{"backups.drillRtoMinutes", b.DrillRtoMinutes, 10, 1440, ""},
	)
	if f := b.DrillFreshness; f.MaxAgeHours > 0 {
		if !sqlIdentifierRE.MatchString(f.Table) {
			p.add("backups.drillFreshness.table", f.Table, "want the table whose newest row proves a dump current, such as users")
		}
		if !sqlIdentifierRE.MatchString(f.Column) {
			p.add("backups.drillFreshness.column", f.Column, "want a timestamp column the app writes all the time, such as updatedAt")
		}
	}
	if len(b.DrillTables) == 0 {
		p.add("backups.drillTables", "[]", "want the tables that must hold rows after a restore, such as [users, courses]")
	}
	for i, t := range b.DrillTables {
		if !sqlIdentifierRE.MatchString(t) {
			p.add(fmt.Sprintf("backups.drillTables[%d]", i), t, "want a table name (letters, digits, underscores)")
		}
	}
	p.pinnedImages(
		keyValue{"backups.images.postgres", b.Images.Postgres},
		keyValue{"backups.images.awsCli", b.Images.AwsCli},
	)
}

// HistogramBoundaries are the bucket boundaries, in seconds, the backend's
// http_server_request_duration_seconds histogram must have (docs/METRICS.md
// states them; a test keeps the two equal). OpenTelemetry's defaults jump
// from 0.1 to 0.25, so the seed's 200 ms and the 2 s page line are added.
var HistogramBoundaries = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 2, 2.5, 5, 7.5, 10}

// routeNameRE: a route's name becomes a label value and a rule's name.
var routeNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

func validateSLO(p *problems, s SLOConfig) {
	if v := s.Availability; v < 0.9 || v > 0.9999 {
		p.add("observability.slo.availability", v, "want a share between 0.9 and 0.9999, such as 0.999 for 99.9%%")
	}
	if v := s.LatencyObjective; v < 0.5 || v > 0.999 {
		p.add("observability.slo.latencyObjective", v, "want a share between 0.5 and 0.999, such as 0.95 for 95%%")
	}
	if !slices.Contains(HistogramBoundaries, s.LatencySeconds) {
		p.add("observability.slo.latencySeconds", s.LatencySeconds, "want one of the request histogram's bucket boundaries %v (docs/METRICS.md): a threshold between two is interpolated, not counted", HistogramBoundaries)
	}
	validateRouteRegexp(p, "observability.slo.latencyExcludedRoutes", s.LatencyExcludedRoutes)
	if v := s.MinRequestsPerSecond; v <= 0 {
		p.add("observability.slo.minRequestsPerSecond", v, "want a request rate above 0, such as 1")
	}
	if v := s.RouteMinRequestsPerSecond; v <= 0 {
		p.add("observability.slo.routeMinRequestsPerSecond", v, "want a request rate above 0, such as 0.05")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Routes)) {
		key := "observability.slo.routes." + name
		if !routeNameRE.MatchString(name) {
			p.add(key, name, "want a route name of lowercase letters, digits and dashes, such as login")
		}
		if re := s.Routes[name]; strings.TrimSpace(re) == "" {
			p.add(key, re, "want a regular expression (RE2) of route templates, such as /api/auth/login")
		} else {
			validateRouteRegexp(p, key, re)
		}
	}
}

// validateRouteRegexp refuses an expression of route templates the rules
// could not carry: one that holds a backquote (they quote it with
// backquotes) or that RE2, anchored as PromQL anchors it, cannot compile.
func validateRouteRegexp(p *problems, key, re string) {
	if strings.Contains(re, "`") {
		p.add(key, re, "want no backquote: the rules quote the expression with backquotes")
	} else if _, err := regexp.Compile("^(?:" + re + ")$"); err != nil {
		p.add(key, re, "want a regular expression (RE2) of route templates: %v", err)
	}
}

// maxRolloverShare is the largest write index, in percent of a node's
// Elasticsearch volume (the k8s review's F17: at 100% it could only roll
// over by age, past the 85/90/95% watermarks).
const maxRolloverShare = 20

// PoolLabel is the node label the workloads' nodeSelectors name their
// node group by (scrolluniversity.io/pool: <nodePool>).
const PoolLabel = "scrolluniversity.io/pool"

// validatePoolsSelectable refuses a node group that the pods sent to it
// (app.nodePool, observability.nodePool, logging.nodePool) could never
// land on: the pods select PoolLabel=<pool>, so the group must carry that
// label, and they tolerate no taint, so it must carry none that repels
// them. Without it, a relabelled group leaves every such pod Pending with
// no error before `pulumi up`. Each group is checked once, naming every
// setting that sends pods to it; a pool that names no group is reported
// where it is set.
func (c *Config) validatePoolsSelectable(p *problems) {
	users := map[string][]string{}
	for _, u := range []struct{ key, pool string }{
		{"app.nodePool", c.App.NodePool}, {"observability.nodePool", c.Observability.NodePool}, {"logging.nodePool", c.Logging.NodePool},
	} {
		if _, ok := c.Cluster.NodeGroups[u.pool]; ok {
			users[u.pool] = append(users[u.pool], u.key)
		}
	}
	for _, pool := range slices.Sorted(maps.Keys(users)) {
		ng, keys := c.Cluster.NodeGroups[pool], strings.Join(users[pool], ", ")
		group := "cluster.nodeGroups." + pool
		if got := ng.Labels[PoolLabel]; got != pool {
			p.add(group+".labels", fmt.Sprintf("%s=%s", PoolLabel, got), "the pods of %s select %s=%s, which the group's nodes would not carry: none of them could schedule", keys, PoolLabel, pool)
		}
		for _, t := range ng.Taints {
			if t.Effect == "NoSchedule" || t.Effect == "NoExecute" {
				p.add(group+".taints", t.Key+":"+t.Effect, "the pods of %s tolerate no taint: none of them could schedule on this group", keys)
			}
		}
	}
}

// unpriced says why a well-formed type is refused: the price table
// (internal/cost/prices.json) does not list it, so the cost estimate could
// not price it (and, for EC2, the placement check's node table, kept to
// the same list, could not shape its nodes). "" when it is listed.
func unpriced(service, what, typ string) string {
	prices, err := cost.Table()
	if err != nil {
		return err.Error()
	}
	known := prices.Priced(service)
	if slices.Contains(known, typ) {
		return ""
	}
	hint := "add its on-demand price to internal/cost/prices.json"
	if service == "ec2" {
		hint += " and its vCPUs, memory and network interfaces to internal/simcluster/instances.go"
	}
	if service == "rds" {
		hint += " (and its vCPUs, which Extended Support bills by)"
	}
	return fmt.Sprintf("not one of the %s the price table knows %v: %s", what, known, hint)
}
