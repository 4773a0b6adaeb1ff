package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/internal/synth"
)

// A bad stack file is an edit of the shipped production file. Each message
// must read `Pulumi.production.yaml:<line>: <key> = <value>: <allowed>`,
// with the line the problem is on (or, for a key the file lacks, the line
// of the closest key it has), and nothing may be registered.
type badFile struct {
	name string
	// from is replaced by to, once; from is a regular expression when it
	// starts with "re:", so that an edit need not know today's figures.
	from, to string
	// at is a substring of the line the message must name ("" for the
	// line of `config:`).
	at string
	// key and value are exact; allowed is part of what is allowed.
	key, value, allowed string
}

var badFiles = []badFile{
	{"misspelled key", "natGateways: perZone", "natGateway: perZone", "natGateway:",
		"scrolluniversity:network.natGateway", "perZone", "unknown key; did you mean natGateways?"},
	{"unknown node group field", "        zonal: true\n", "        zonal: true\n        maxUnavailable: 1\n", "maxUnavailable:",
		"scrolluniversity:cluster.nodeGroups.workload.maxUnavailable", "1", "unknown key"},
	{"CIDR list written as a string", "publicAccessCidrs: []", "publicAccessCidrs: 203.0.113.0/24", "publicAccessCidrs:",
		"scrolluniversity:cluster.publicAccessCidrs", "203.0.113.0/24", "want a list of CIDRs"},
	{"a word for a number", "gateway: {replicas: 3}", `gateway: {replicas: "three"}`, "gateway:",
		"scrolluniversity:app.gateway.replicas", `"three"`, "want a whole number"},
	{"unquoted Kubernetes version", `kubernetesVersion: "1.36"`, "kubernetesVersion: 1.30", "kubernetesVersion:",
		"scrolluniversity:cluster.kubernetesVersion", "1.30", "put it in quotes"},
	{"text for true or false", "    protect: true", "    protect: yes please", "protect:",
		"scrolluniversity:guards.protect", "yes please", "want true or false"},
	{"a list where a mapping goes", "    CostCenter: platform-production", "    - platform-production", "scrolluniversity:tags:",
		"scrolluniversity:tags", "[platform-production]", "want a mapping"},
	{"misspelled aws:region", "aws:region: us-east-1", "aws:regoin: us-east-1", "aws:regoin",
		"aws:regoin", "us-east-1", "did you mean aws:region?"},
	{"region missing", "  aws:region: us-east-1\n", "", "",
		"aws:region", `""`, "want an AWS region"},
	{"key of a namespace the program does not read", "  aws:region: us-east-1\n", "  aws:region: us-east-1\n  kubernetes:context: prod\n", "kubernetes:context",
		"kubernetes:context", "prod", "not read by this program"},
	{"misspelled section", "scrolluniversity:network:", "scrolluniversity:netwrok:", "scrolluniversity:netwrok:",
		"scrolluniversity:netwrok", "{vpcCidr: 10.20.0.0/16, availabilityZones: [us-east-1a, us-east-1b, us-east-1c], natGateways: perZone, flowLogRetentionDays: 365}", "did you mean network?"},
	{"duplicate hostname", "hostnames: [scrolluniversity.app, www.scrolluniversity.app]", "hostnames: [scrolluniversity.app, scrolluniversity.app]", "hostnames:",
		"scrolluniversity:app.hostnames[1]", `"scrolluniversity.app"`, "listed twice (also app.hostnames[0])"},
	{"hostnames that share a listener name", "hostnames: [scrolluniversity.app, www.scrolluniversity.app]", "hostnames: [www.scrolluniversity.app, www-scrolluniversity.app]", "hostnames:",
		"scrolluniversity:app.hostnames[1]", `"www-scrolluniversity.app"`, "its Gateway listener name https-www-scrolluniversity-app is also app.hostnames[0]'s"},
	{"duplicate CIDR", "publicAccessCidrs: []", "publicAccessCidrs: [203.0.113.0/24, 198.51.100.0/24, 203.0.113.0/24]", "publicAccessCidrs:",
		"scrolluniversity:cluster.publicAccessCidrs[2]", `"203.0.113.0/24"`, "listed twice"},
	{"duplicate zone", "availabilityZones: [us-east-1a, us-east-1b, us-east-1c]", "availabilityZones: [us-east-1a, us-east-1b, us-east-1a]", "availabilityZones:",
		"scrolluniversity:network.availabilityZones[2]", `"us-east-1a"`, "zone listed twice"},
	{"zone outside the region", "availabilityZones: [us-east-1a, us-east-1b, us-east-1c]", "availabilityZones: [us-east-1a, us-east-1b, eu-west-1c]", "availabilityZones:",
		"scrolluniversity:network.availabilityZones[2]", `"eu-west-1c"`, "want a zone of region us-east-1"},
	{"NAT layout", "natGateways: perZone", "natGateways: sometimes", "natGateways:",
		"scrolluniversity:network.natGateways", `"sometimes"`, `want "perZone" or "single"`},
	{"service CIDR inside the VPC", `kubernetesVersion: "1.36"`, "kubernetesVersion: \"1.36\"\n    serviceCidr: 10.20.128.0/20", "serviceCidr:",
		"scrolluniversity:cluster.serviceCidr", `"10.20.128.0/20"`, "overlaps network.vpcCidr"},
	{"deployer role missing", "    deployerRoleArn: arn:aws:iam::123456789012:role/scrolluniversity-production-deploy\n", "", "scrolluniversity:cluster:",
		"scrolluniversity:cluster.deployerRoleArn", `""`, "want the IAM role ARN that runs `pulumi up`"},
	{"viewer that is the deployer", "      - arn:aws:iam::123456789012:role/scrolluniversity-production-preview\n", "      - arn:aws:iam::123456789012:role/scrolluniversity-production-deploy\n", "      - arn:aws:iam::123456789012:role/scrolluniversity-production-deploy\n",
		"scrolluniversity:cluster.viewerRoleArns[0]", `"arn:aws:iam::123456789012:role/scrolluniversity-production-deploy"`, "already given access by cluster.deployerRoleArn"},
	{"runner egress parameter not a parameter name", "    publicAccessCidrs: []\n", "    publicAccessCidrs: []\n    runnerEgressParameter: runner-egress\n", "runnerEgressParameter:",
		"scrolluniversity:cluster.runnerEgressParameter", `"runner-egress"`, "want the SSM parameter the bootstrap writes"},
	{"admin listed twice", "      - arn:aws:iam::123456789012:role/platform-admins\n", "      - arn:aws:iam::123456789012:role/platform-admins\n      - arn:aws:iam::123456789012:role/platform-admins\n", "      - arn:aws:iam::123456789012:role/platform-admins\n    logRetentionDays",
		"scrolluniversity:cluster.adminRoleArns[1]", `"arn:aws:iam::123456789012:role/platform-admins"`, "already given access by cluster.adminRoleArns[0]"},
	{"node group min above desired", "        minSize: 3\n        desiredSize: 3\n        maxSize: 4", "        minSize: 4\n        desiredSize: 3\n        maxSize: 4", "      system:",
		"scrolluniversity:cluster.nodeGroups.system", "minSize=4 desiredSize=3 maxSize=4", "want 0 <= minSize <= desiredSize <= maxSize"},
	{"instance type", "instanceTypes: [m6i.large]", "instanceTypes: [large]", "instanceTypes: [large]",
		"scrolluniversity:cluster.nodeGroups.system.instanceTypes[0]", `"large"`, "want an EC2 instance type"},
	{"taint effect", "{key: CriticalAddonsOnly, value: \"true\", effect: NoSchedule}", "{key: CriticalAddonsOnly, value: \"true\", effect: Never}", "effect: Never",
		"scrolluniversity:cluster.nodeGroups.system.taints[0].effect", `"Never"`, "want NoSchedule, PreferNoSchedule or NoExecute"},
	{"app pool over every zone", "        zonal: true\n", "", "      workload:",
		"scrolluniversity:cluster.nodeGroups.workload.zonal", "false", "one node group per zone"},
	{"rollout surge does not fit", "        maxSize: 9", "        maxSize: 8", "maxSize: 8",
		"scrolluniversity:cluster.nodeGroups.workload.maxSize", "8", "needs 9 nodes per zone"},
	{"PostgreSQL minor pinned", "    instanceClass: db.r6g.large", "    engineVersion: \"15.13\"\n    instanceClass: db.r6g.large", "engineVersion:",
		"scrolluniversity:database.engineVersion", `"15.13"`, `want the major version "15" only`},
	{"enhanced monitoring interval", "monitoringIntervalSeconds: 60", "monitoringIntervalSeconds: 45", "monitoringIntervalSeconds:",
		"scrolluniversity:database.monitoringIntervalSeconds", "45", "want one of [0 1 5 10 15 30 60]"},
	{"Redis replicas without failover", "    automaticFailover: true", "    automaticFailover: false", "automaticFailover:",
		"scrolluniversity:cache.automaticFailover", "false", "cache.replicas is 2"},
	{"hostname", "hostnames: [scrolluniversity.app, www.scrolluniversity.app]", "hostnames: [Scroll_University, www.scrolluniversity.app]", "hostnames:",
		"scrolluniversity:app.hostnames[0]", `"Scroll_University"`, "want a fully qualified lower-case hostname"},
	{"latest image tag", `      imageTag: "1.0.0"`, `      imageTag: latest`, "imageTag: latest",
		"scrolluniversity:app.backend.imageTag", `"latest"`, "latest and empty tags make rollouts unrepeatable"},
	{"HPA min above max", `re:      minReplicas: \d+\n      maxReplicas: \d+`, "      minReplicas: 21\n      maxReplicas: 20", "    backend:",
		"scrolluniversity:app.backend", "minReplicas=21 maxReplicas=20", "want 1 <= minReplicas <= maxReplicas"},
	{"quota too small", `re:pods: \d+\}`, "pods: 1}", "quota:",
		"scrolluniversity:app.quota.pods", "1", "the HPA maximums, a rollout's surge, the migration Job and the backup jobs need"},
	{"one NGINX pod", "gateway: {replicas: 3}", "gateway: {replicas: 1}", "gateway:",
		"scrolluniversity:app.gateway.replicas", "1", "single point of failure"},
	{"two Elasticsearch nodes", "elasticsearchNodes: 3", "elasticsearchNodes: 2", "elasticsearchNodes:",
		"scrolluniversity:logging.elasticsearchNodes", "2", "2 nodes cannot elect a master"},
	{"object lock as text", "objectLock: true", "objectLock: governance", "objectLock:",
		"scrolluniversity:backups.objectLock", "governance", "want true or false"},
	{"Route 53 zone", "route53ZoneId: Z0123456789PRODUCTIONZ", "route53ZoneId: scrolluniversity.app", "route53ZoneId:",
		"scrolluniversity:app.route53ZoneId", `"scrolluniversity.app"`, "want the Route 53 hosted zone ID"},
}

// writeStack writes Pulumi.yaml and an edited production stack file to a
// fresh folder, returning the folder and the edited text.
func writeStack(t *testing.T, from, to string) (string, string) {
	t.Helper()
	project, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	if expr, ok := strings.CutPrefix(from, "re:"); ok {
		re := regexp.MustCompile(expr)
		if n := len(re.FindAllStringIndex(string(orig), -1)); n != 1 {
			t.Fatalf("the edit's expression %q matches %d times in Pulumi.production.yaml, want once", expr, n)
		}
		text = re.ReplaceAllLiteralString(string(orig), to)
	} else {
		if n := strings.Count(string(orig), from); n != 1 {
			t.Fatalf("the edit's text %q appears %d times in Pulumi.production.yaml, want once", from, n)
		}
		text = strings.Replace(string(orig), from, to, 1)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"Pulumi.yaml": string(project), "Pulumi.production.yaml": text} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, text
}

// lineOf is the 1-based line holding at ("" is the line of `config:`).
func lineOf(t *testing.T, text, at string) int {
	t.Helper()
	if at == "" {
		at = "config:"
	}
	i := strings.Index(text, at)
	if i < 0 {
		t.Fatalf("%q is not in the edited file", at)
	}
	return strings.Count(text[:i], "\n") + 1
}

func TestBadStackFilesNameTheLine(t *testing.T) {
	t.Parallel() // independent programs of its own: runs beside the shared-stack tests
	if len(badFiles) < 30 {
		t.Fatalf("want at least 30 bad stack files, have %d", len(badFiles))
	}
	for _, tc := range badFiles {
		t.Run(tc.name, func(t *testing.T) {
			dir, text := writeStack(t, tc.from, tc.to)
			stack, err := synth.LoadStack(dir, "production")
			if err != nil {
				t.Fatalf("loading: %v", err)
			}
			res, err := synth.Run(stack, infra.Deploy)
			if err == nil {
				t.Fatalf("want a problem on %s, got none", tc.key)
			}
			want := fmt.Sprintf("Pulumi.production.yaml:%d: %s = %s: ", lineOf(t, text, tc.at), tc.key, tc.value)
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, want) && strings.Contains(line, tc.allowed) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a line starting %q and saying %q; got:\n%v", want, tc.allowed, err)
			}
			if len(res.Resources) != 0 {
				t.Errorf("want nothing registered, got %d resources", len(res.Resources))
			}
		})
	}
}

// Every problem of a file is reported at once, in the file's order.
func TestEveryProblemOfAFileAtOnce(t *testing.T) {
	dir, text := writeStack(t, "natGateways: perZone\n    flowLogRetentionDays: 365", "natGateway: perZone\n    flowLogRetentionDays: 45")
	stack, err := synth.LoadStack(dir, "production")
	if err != nil {
		t.Fatal(err)
	}
	_, err = synth.Run(stack, infra.Deploy)
	if err == nil {
		t.Fatal("want problems")
	}
	// A misspelt key stops nothing: the values around it are checked too.
	want := []string{
		fmt.Sprintf("Pulumi.production.yaml:%d: scrolluniversity:network.natGateway = perZone: unknown key; did you mean natGateways?", lineOf(t, text, "natGateway:")),
		fmt.Sprintf("Pulumi.production.yaml:%d: scrolluniversity:network.flowLogRetentionDays = 45: want one of CloudWatch's periods", lineOf(t, text, "flowLogRetentionDays:")),
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("want %d problems, got:\n%v", len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d: want %q, got %q", i, w, lines[i])
		}
	}
}

// A YAML syntax error names the file and the line it is on, and a key
// written twice (two node groups of one name) is one.
func TestYAMLErrorsNameTheFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, at, want string
	}{
		{"unclosed list", "availabilityZones: [us-east-1a, us-east-1b, us-east-1c]", "availabilityZones: [us-east-1a, us-east-1b, us-east-1c\n    natGateways: single", "natGateways: single", "YAML syntax: ',' or ']' must be specified"},
		{"bad indentation", "    logRetentionDays: 365", "     logRetentionDays: 365", "logRetentionDays", "YAML syntax: value is not allowed in this context"},
		{"node group written twice", "      spot:\n", "      system:\n        instanceTypes: [m6i.large]\n      spot:\n", "      system:\n        instanceTypes: [m6i.large]\n      spot:", `mapping key "system" already defined at line {first system:}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, text := writeStack(t, tc.from, tc.to)
			_, err := synth.LoadStack(dir, "production")
			want := fmt.Sprintf("Pulumi.production.yaml:%d: ", lineOf(t, text, tc.at))
			// The first definition's line, wherever the file has it.
			tc.want = strings.ReplaceAll(tc.want, "{first system:}", fmt.Sprint(lineOf(t, text, "      system:")))
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want %q...%q, got %v", want, tc.want, err)
			}
		})
	}
}

// A stack that does not exist names the ones that do.
func TestUnknownStackListsTheStacks(t *testing.T) {
	_, err := synth.LoadStack(repoRoot, "nosuch")
	if err == nil || !strings.Contains(err.Error(), `no stack "nosuch"`) || !strings.Contains(err.Error(), "production, staging") {
		t.Errorf("want the stacks that exist named, got %v", err)
	}
}

// A problem is reported as its cause, alone: a check of a value derived
// from a refused one stays quiet (the autoscaler's and kube-proxy's minor
// against a refused Kubernetes version, CORS origins derived from a
// refused hostname), a character a terminal shows as a blank is named, a
// credential in clear is refused without being shown, a type the price
// table does not know is refused at its key, and a node group relabelled
// away from the pods that select it is refused. Each case gives the whole
// report. (A region the price table lacks: internal/cost's
// TestARegionWithoutPricesIsRefusedByName.)
func TestMessagesPutTheCauseFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, from, to string
		// want is the whole report; LINE stands for the line of at in
		// the edited file (no test knows a shipped file's line numbers).
		at   string
		want []string
	}{
		{"Kubernetes version out of range", `kubernetesVersion: "1.36"`, `kubernetesVersion: "1.40"`, "kubernetesVersion:", []string{
			`Pulumi.production.yaml:LINE: scrolluniversity:cluster.kubernetesVersion = "1.40": want a version from 1.35 to 1.36`,
		}},
		{"hostname with a scheme", "hostnames: [scrolluniversity.app,", "hostnames: [https://scrolluniversity.app,", "hostnames:", []string{
			`Pulumi.production.yaml:LINE: scrolluniversity:app.hostnames[0] = "https://scrolluniversity.app": want a fully qualified lower-case hostname such as app.example.com`,
		}},
		{"a tab inside a hostname", "hostnames: [scrolluniversity.app,", "hostnames: [scrolluniversity\t.app,", "hostnames:", []string{
			`Pulumi.production.yaml:LINE: scrolluniversity:app.hostnames[0] = "scrolluniversity\t.app" (contains a tab at character 17): want a fully qualified lower-case hostname such as app.example.com`,
		}},
		{"a credential written in clear", "  aws:region: us-east-1\n", "  aws:region: us-east-1\n  scrolluniversity:stripeSecretKey: sk_live_51Hclear\n", "scrolluniversity:stripeSecretKey:", []string{
			"Pulumi.production.yaml:LINE: scrolluniversity:stripeSecretKey = (in clear, not shown): a credential must be an encrypted secret: remove it from the stack file, then `pulumi config set --secret scrolluniversity:stripeSecretKey <value>`; rotate it if the file was ever committed",
		}},
		{"an instance type the price table does not know", "instanceTypes: [m6i.xlarge]", "instanceTypes: [m6i.24xlarge]", "instanceTypes: [m6i.24xlarge]", []string{
			"Pulumi.production.yaml:LINE: scrolluniversity:cluster.nodeGroups.workload.instanceTypes[0] = \"m6i.24xlarge\": not one of the EC2 instance types the price table knows [m5.large m5.xlarge m6a.large m6a.xlarge m6i.large m6i.xlarge t3.large]: add its on-demand price to internal/cost/prices.json and its vCPUs, memory and network interfaces to internal/simcluster/instances.go",
		}},
		{"the app's node group relabelled", "labels: {scrolluniversity.io/pool: workload}", "labels: {scrolluniversity.io/pool: apps}", "labels: {scrolluniversity.io/pool: apps}", []string{
			`Pulumi.production.yaml:LINE: scrolluniversity:cluster.nodeGroups.workload.labels = "scrolluniversity.io/pool=apps": the pods of app.nodePool, observability.nodePool, logging.nodePool select scrolluniversity.io/pool=workload, which the group's nodes would not carry: none of them could schedule`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, text := writeStack(t, tc.from, tc.to)
			stack, err := synth.LoadStack(dir, "production")
			if err != nil {
				t.Fatalf("loading: %v", err)
			}
			_, err = synth.Run(stack, infra.Deploy)
			if err == nil {
				t.Fatal("want a problem, got none")
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = strings.Replace(w, "LINE", strconv.Itoa(lineOf(t, text, tc.at)), 1)
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
				t.Errorf("report:\n%q\nwant:\n%q", got, want)
			}
			if strings.Contains(err.Error(), "sk_live_51Hclear") {
				t.Errorf("the report shows a credential: %v", err)
			}
		})
	}
}
