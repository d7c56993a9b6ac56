package stacks

import (
	"errors"
	"strings"
	"testing"

	_ "github.com/personalization/platform/internal/golden" // understands -update
)

// testToken is a valid Redis AUTH token for tests.
const testToken = "test-token-0123456789abcdef"

// mapSource is a stack's configuration for Parse, keyed like the engine's.
type mapSource struct {
	values  map[string]string
	secrets map[string]bool
}

func (m mapSource) Get(k string) (string, bool) { v, ok := m.values[k]; return v, ok }
func (m mapSource) IsSecret(k string) bool      { return m.secrets[k] }

// source is a stack's configuration with the required secret set as a
// secret, unless the values set it themselves.
func source(values map[string]string) Source {
	all := map[string]string{Project + ":redisAuthToken": testToken, Project + ":grafanaAdminPassword": testToken}
	for k, v := range values {
		all[k] = v
	}
	secrets := map[string]bool{}
	for _, k := range append(SecretKeys(), OptionalSecretKeys()...) {
		secrets[Project+":"+k] = true
	}
	return mapSource{values: all, secrets: secrets}
}

func TestDefaultsValidate(t *testing.T) {
	for _, env := range Environments() {
		p := Defaults(env)
		p.Region = "eu-west-1"
		if err := Validate(&p); err != nil {
			t.Errorf("defaults of %s do not validate: %v", env, err)
		}
	}
}

func TestParseDefaultsPerTier(t *testing.T) {
	tests := []struct {
		stack   string
		env     Environment
		zones   int
		nat     NATMode
		flowLog int
	}{
		{"dev", Dev, 2, NATSingle, 7},
		{"staging", Staging, 3, NATSingle, 30},
		{"production", Production, 3, NATPerAZ, 365},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			p, err := Parse(tt.stack, source(map[string]string{RegionKey: "eu-west-1"}))
			if err != nil {
				t.Fatal(err)
			}
			if p.Environment != tt.env || p.Network.AvailabilityZones != tt.zones ||
				p.Network.NATGateways != tt.nat || p.Network.FlowLogRetentionDays != tt.flowLog {
				t.Errorf("got %s with %d zones, NAT %s, flow logs %d days; want %s, %d, %s, %d",
					p.Environment, p.Network.AvailabilityZones, p.Network.NATGateways, p.Network.FlowLogRetentionDays,
					tt.env, tt.zones, tt.nat, tt.flowLog)
			}
		})
	}
}

func TestParseOverlaysOnlyGivenFields(t *testing.T) {
	p, err := Parse("dev-alice", source(map[string]string{
		RegionKey:                "us-east-2",
		Project + ":environment": "dev",
		Project + ":network":     `{"availabilityZones": 3}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Stack != "dev-alice" || p.Environment != Dev || p.Region != "us-east-2" {
		t.Errorf("got stack %q env %q region %q", p.Stack, p.Environment, p.Region)
	}
	if p.Network.AvailabilityZones != 3 || p.Network.CIDR != Defaults(Dev).Network.CIDR || p.Network.NATGateways != NATSingle {
		t.Errorf("overlay changed more than the given field: %+v", p.Network)
	}
}

// TestParseRejectsBadInput holds every bad input to one error that names the
// key, the value given and what is allowed.
func TestParseRejectsBadInput(t *testing.T) {
	network := Project + ":network"
	cluster := Project + ":cluster"
	database := Project + ":database"
	cacheKey := Project + ":cache"
	backup := Project + ":backup"
	workloads := Project + ":workloads"
	images := Project + ":images"
	namespace := Project + ":namespace"
	monitoring := Project + ":monitoring"
	tests := []struct {
		name   string
		stack  string
		config map[string]string
		want   []string // substrings of the one error
	}{
		{"unknown stack name", "qa", nil,
			[]string{Project + ":environment", `stack name "qa"`, `"dev", "staging", "production"`}},
		{"unknown environment", "dev", map[string]string{Project + ":environment": "prod"},
			[]string{Project + ":environment", `"prod"`, `"dev", "staging", "production"`}},
		{"missing region", "dev", map[string]string{RegionKey: ""},
			[]string{"aws:region", "is not set", "eu-west-1"}},
		{"malformed region", "dev", map[string]string{RegionKey: "Europe"},
			[]string{"aws:region", `"Europe"`, "eu-west-1"}},
		{"malformed CIDR", "dev", map[string]string{network: `{"cidr": "10.0.0/16"}`},
			[]string{network + ".cidr", `"10.0.0/16"`, "is not a CIDR block", "/16 to /20"}},
		{"too small CIDR", "dev", map[string]string{network: `{"cidr": "10.0.0.0/24"}`},
			[]string{network + ".cidr", `"10.0.0.0/24"`, "too small", "/16 to /20"}},
		{"too large CIDR", "dev", map[string]string{network: `{"cidr": "10.0.0.0/8"}`},
			[]string{network + ".cidr", `"10.0.0.0/8"`, "larger than AWS allows", "/16 to /20"}},
		{"host bits set", "dev", map[string]string{network: `{"cidr": "10.0.1.0/16"}`},
			[]string{network + ".cidr", `"10.0.1.0/16"`, "host bits", "10.0.0.0/16"}},
		{"public range", "dev", map[string]string{network: `{"cidr": "8.8.0.0/16"}`},
			[]string{network + ".cidr", `"8.8.0.0/16"`, "RFC 1918", "192.168.0.0/16"}},
		{"IPv6 block", "dev", map[string]string{network: `{"cidr": "fd00::/56"}`},
			[]string{network + ".cidr", `"fd00::/56"`, "not IPv4"}},
		{"one zone", "dev", map[string]string{network: `{"availabilityZones": 1}`},
			[]string{network + ".availabilityZones", `"1"`, "from 2 to 6"}},
		{"seven zones", "dev", map[string]string{network: `{"availabilityZones": 7}`},
			[]string{network + ".availabilityZones", `"7"`, "from 2 to 6"}},
		{"zero zones", "production", map[string]string{network: `{"availabilityZones": 0}`},
			[]string{network + ".availabilityZones", `"0"`, "from 2 to 6"}},
		{"negative zones", "dev", map[string]string{network: `{"availabilityZones": -3}`},
			[]string{network + ".availabilityZones", `"-3"`, "from 2 to 6"}},
		{"zones as text", "dev", map[string]string{network: `{"availabilityZones": "three"}`},
			[]string{network + ".availabilityZones", `"string"`, "whole number"}},
		{"unknown NAT mode", "dev", map[string]string{network: `{"natGateways": "perZone"}`},
			[]string{network + ".natGateways", `"perZone"`, `"single", "perAz"`}},
		{"retention CloudWatch refuses", "dev", map[string]string{network: `{"flowLogRetentionDays": 10}`},
			[]string{network + ".flowLogRetentionDays", `"10"`, "[1 3 5 7 14"}},
		{"zero retention", "dev", map[string]string{network: `{"flowLogRetentionDays": 0}`},
			[]string{network + ".flowLogRetentionDays", `"0"`, "[1 3 5 7 14"}},
		{"misspelt key", "dev", map[string]string{network: `{"azCount": 3}`},
			[]string{network + ".azCount", "not a known key", "availabilityZones, cidr, flowLogRetentionDays, natGateways"}},
		{"not an object", "dev", map[string]string{network: `10.0.0.0/16`},
			[]string{network, `"10.0.0.0/16"`, "not an object"}},
		{"broken JSON", "dev", map[string]string{network: `{"cidr": `},
			[]string{network, "not valid JSON"}},
		{"unsupported Kubernetes version", "dev", map[string]string{cluster: `{"version": "1.21"}`},
			[]string{cluster + ".version", `"1.21"`, `"1.33", "1.34", "1.35"`}},
		{"allow-list of a private range", "dev", map[string]string{cluster: `{"publicAccessCidrs": ["10.250.0.0/20"]}`},
			[]string{cluster + ".publicAccessCidrs[0]", `"10.250.0.0/20"`, "not a public range", "egress CIDRs"}},
		{"allow-list of the whole internet", "production", map[string]string{cluster: `{"endpointPublicAccess": true, "publicAccessCidrs": ["0.0.0.0/0"]}`},
			[]string{cluster + ".publicAccessCidrs[0]", `"0.0.0.0/0"`, "whole internet"}},
		{"allow-list of the whole IPv6 internet", "dev", map[string]string{cluster: `{"endpointPublicAccess": true, "publicAccessCidrs": ["203.0.113.0/24", "::/0"]}`},
			[]string{cluster + ".publicAccessCidrs[1]", `"::/0"`, "whole internet"}},
		{"malformed allow-list CIDR", "dev", map[string]string{cluster: `{"endpointPublicAccess": true, "publicAccessCidrs": ["203.0.113.0/33"]}`},
			[]string{cluster + ".publicAccessCidrs[0]", `"203.0.113.0/33"`, "not a CIDR"}},
		{"allow-list with the endpoint off", "dev", map[string]string{cluster: `{"endpointPublicAccess": false, "publicAccessCidrs": ["203.0.113.0/24"]}`},
			[]string{cluster + ".publicAccessCidrs", "endpointPublicAccess is false"}},
		{"admin that is not an IAM ARN", "dev", map[string]string{cluster: `{"adminPrincipals": ["alice@example.com"]}`},
			[]string{cluster + ".adminPrincipals[0]", `"alice@example.com"`, "arn:aws:iam::123456789012:role/"}},
		{"min above max", "dev", map[string]string{cluster: `{"nodeGroups": [{"name": "general", "instanceTypes": ["m6i.large"], "capacityType": "ON_DEMAND", "minSize": 4, "desiredSize": 4, "maxSize": 3, "diskSizeGiB": 50}]}`},
			[]string{cluster + ".nodeGroups[0].minSize", `"4"`, "above maxSize (3)", "0 to 3"}},
		{"desired outside min and max", "dev", map[string]string{cluster: `{"nodeGroups": [{"name": "general", "instanceTypes": ["m6i.large"], "capacityType": "ON_DEMAND", "minSize": 1, "desiredSize": 5, "maxSize": 3, "diskSizeGiB": 50}]}`},
			[]string{cluster + ".nodeGroups[0].desiredSize", `"5"`, "1 to 3"}},
		{"empty instance types", "dev", map[string]string{cluster: `{"nodeGroups": [{"name": "general", "instanceTypes": [], "capacityType": "SPOT", "minSize": 1, "desiredSize": 1, "maxSize": 3, "diskSizeGiB": 50}]}`},
			[]string{cluster + ".nodeGroups[0].instanceTypes", "is empty", "m6i.large"}},
		{"malformed instance type", "dev", map[string]string{cluster: `{"nodeGroups": [{"name": "general", "instanceTypes": ["large"], "capacityType": "SPOT", "minSize": 1, "desiredSize": 1, "maxSize": 3, "diskSizeGiB": 50}]}`},
			[]string{cluster + ".nodeGroups[0].instanceTypes[0]", `"large"`, "m6i.large"}},
		{"unknown capacity type", "dev", map[string]string{cluster: `{"nodeGroups": [{"name": "general", "instanceTypes": ["m6i.large"], "capacityType": "RESERVED", "minSize": 1, "desiredSize": 1, "maxSize": 3, "diskSizeGiB": 50}]}`},
			[]string{cluster + ".nodeGroups[0].capacityType", `"RESERVED"`, `"ON_DEMAND", "SPOT"`}},
		{"no node group", "dev", map[string]string{cluster: `{"nodeGroups": []}`},
			[]string{cluster + ".nodeGroups", "has no node group"}},
		{"unknown taint effect", "dev", map[string]string{cluster: `{"nodeGroups": [{"name": "general", "instanceTypes": ["m6i.large"], "capacityType": "SPOT", "minSize": 1, "desiredSize": 1, "maxSize": 3, "diskSizeGiB": 50, "taints": [{"key": "dedicated", "effect": "NoSchedule"}]}]}`},
			[]string{cluster + ".nodeGroups[0].taints[0].effect", `"NoSchedule"`, `"NO_SCHEDULE"`}},
		{"tiny disk", "dev", map[string]string{cluster: `{"nodeGroups": [{"name": "general", "instanceTypes": ["m6i.large"], "capacityType": "SPOT", "minSize": 1, "desiredSize": 1, "maxSize": 3, "diskSizeGiB": 8}]}`},
			[]string{cluster + ".nodeGroups[0].diskSizeGiB", `"8"`, "20 to 16384"}},
		{"control-plane retention CloudWatch refuses", "dev", map[string]string{cluster: `{"logRetentionDays": 45}`},
			[]string{cluster + ".logRetentionDays", `"45"`, "[1 3 5 7 14"}},
		{"unknown DB instance family", "dev", map[string]string{database: `{"instanceClass": "db.z9.large"}`},
			[]string{database + ".instanceClass", `"db.z9.large"`, "r6g"}},
		{"storage below 20 GiB", "dev", map[string]string{database: `{"allocatedStorageGiB": 10}`},
			[]string{database + ".allocatedStorageGiB", `"10"`, "20 to 65536"}},
		{"max storage below allocated", "staging", map[string]string{database: `{"allocatedStorageGiB": 100, "maxAllocatedStorageGiB": 50}`},
			[]string{database + ".maxAllocatedStorageGiB", `"50"`, "100 to 65536"}},
		{"backup retention above 35 days", "dev", map[string]string{database: `{"backupRetentionDays": 36}`},
			[]string{database + ".backupRetentionDays", `"36"`, "1 to 35"}},
		{"backup retention of zero", "dev", map[string]string{database: `{"backupRetentionDays": 0}`},
			[]string{database + ".backupRetentionDays", `"0"`, "1 to 35"}},
		{"unsupported PostgreSQL", "dev", map[string]string{database: `{"engineVersion": "9.6"}`},
			[]string{database + ".engineVersion", `"9.6"`, `"14", "15", "16", "17"`}},
		{"unknown cache node family", "dev", map[string]string{cacheKey: `{"nodeType": "cache.x1.large"}`},
			[]string{cacheKey + ".nodeType", `"cache.x1.large"`, "r7g"}},
		{"production cache without a replica", "production", map[string]string{cacheKey: `{"nodes": 1}`},
			[]string{cacheKey + ".nodes", `"1"`, "production", "2 to 6"}},
		{"unsupported Redis", "dev", map[string]string{cacheKey: `{"engineVersion": "5.0"}`},
			[]string{cacheKey + ".engineVersion", `"5.0"`, `"7.1"`}},
		{"snapshot retention above 35", "dev", map[string]string{cacheKey: `{"snapshotRetentionDays": 40}`},
			[]string{cacheKey + ".snapshotRetentionDays", `"40"`, "0 to 35"}},
		{"DR region equal to the primary", "production", map[string]string{backup: `{"replicaRegion": "eu-west-1"}`},
			[]string{backup + ".replicaRegion", `"eu-west-1"`, "any region but eu-west-1"}},
		{"malformed DR region", "production", map[string]string{backup: `{"replicaRegion": "mars-1"}`},
			[]string{backup + ".replicaRegion", `"mars-1"`, "eu-central-1"}},
		{"invalid cron schedule", "dev", map[string]string{backup: `{"schedule": "0 25 * * *"}`},
			[]string{backup + ".schedule", `"0 25 * * *"`, "hour", "0 2 * * *"}},
		{"cron with six fields", "dev", map[string]string{backup: `{"schedule": "0 0 2 * * *"}`},
			[]string{backup + ".schedule", "6 fields"}},
		{"dump retention of zero", "dev", map[string]string{backup: `{"retentionDays": 0}`},
			[]string{backup + ".retentionDays", `"0"`, "1 to 3650"}},
		{"production without the Redis AUTH secret", "production", map[string]string{Project + ":redisAuthToken": ""},
			[]string{Project + ":redisAuthToken", "is not set", "pulumi config set --secret redisAuthToken"}},
		{"Redis AUTH token too short", "dev", map[string]string{Project + ":redisAuthToken": "short"},
			[]string{Project + ":redisAuthToken", "5 characters", "16 to 128"}},
		{"min replicas above max", "production", map[string]string{workloads: `{"personalization-api": {"minReplicas": 5, "maxReplicas": 4}}`},
			[]string{workloads + ".personalization-api.maxReplicas", `"4"`, "5 to 100"}},
		{"port out of range", "dev", map[string]string{workloads: `{"personalization-ui": {"port": 70000}}`},
			[]string{workloads + ".personalization-ui.port", `"70000"`, "1 to 65535"}},
		{"probe path without a slash", "dev", map[string]string{workloads: `{"personalization-api": {"liveness": {"path": "health"}}}`},
			[]string{workloads + ".personalization-api.liveness.path", `"health"`, `"/health"`}},
		{"CPU quantity Kubernetes would not parse", "dev", map[string]string{workloads: `{"personalization-api": {"resources": {"requests": {"cpu": "250 millicores"}}}}`},
			[]string{workloads + ".personalization-api.resources.requests.cpu", `"250 millicores"`, "256Mi"}},
		{"memory limit below its request", "dev", map[string]string{workloads: `{"personalization-api": {"resources": {"limits": {"memory": "128Mi"}}}}`},
			[]string{workloads + ".personalization-api.resources.limits.memory", `"128Mi"`, "below the request (256Mi)"}},
		{"duplicate service name", "dev", map[string]string{workloads: `{"personalization-api": {"port": 3000}, "personalization-api": {"port": 3001}}`},
			[]string{workloads + ".personalization-api", "already given", "each service once"}},
		{"service name that is not a DNS label", "dev", map[string]string{workloads: `{"Personalization_Worker": {"image": "ghcr.io/acme/worker:1.0.0"}}`},
			[]string{workloads + ".Personalization_Worker", "not a DNS label"}},
		{"image tagged latest", "dev", map[string]string{images: `{"personalization-api": "ghcr.io/acme/api:latest"}`},
			[]string{images + ".personalization-api", `"ghcr.io/acme/api:latest"`, "latest"}},
		{"bare latest tag", "dev", map[string]string{images: `{"personalization-api": "latest"}`},
			[]string{images + ".personalization-api", `"latest"`, "names no particular build", "bare tag"}},
		{"lifecycle keeping no release", "dev", map[string]string{Project + ":registry": `{"keepReleases": 0}`},
			[]string{Project + ":registry.keepReleases", `"0"`, "from 1 to 1000"}},
		{"max receive count above SQS's limit", "dev", map[string]string{Project + ":queue": `{"maxReceiveCount": 1001}`},
			[]string{Project + ":queue.maxReceiveCount", `"1001"`, "from 1 to 1000"}},
		{"max receive count of zero", "staging", map[string]string{Project + ":queue": `{"maxReceiveCount": 0}`},
			[]string{Project + ":queue.maxReceiveCount", `"0"`}},
		{"visibility timeout above 12 hours", "dev", map[string]string{Project + ":queue": `{"visibilityTimeoutSeconds": 43201}`},
			[]string{Project + ":queue.visibilityTimeoutSeconds", `"43201"`, "from 0 to 43200"}},
		{"retention under a minute", "dev", map[string]string{Project + ":queue": `{"retentionSeconds": 59}`},
			[]string{Project + ":queue.retentionSeconds", `"59"`, "from 60 to 1209600"}},
		{"retention over 14 days", "production", map[string]string{Project + ":queue": `{"retentionSeconds": 1209601}`},
			[]string{Project + ":queue.retentionSeconds", `"1209601"`}},
		{"image without a tag", "dev", map[string]string{images: `{"personalization-api": "ghcr.io/acme/api"}`},
			[]string{images + ".personalization-api", `"ghcr.io/acme/api"`, "repository:tag"}},
		{"image with an empty tag", "dev", map[string]string{workloads: `{"personalization-ui": {"image": "ghcr.io/acme/ui:"}}`},
			[]string{workloads + ".personalization-ui.image", `"ghcr.io/acme/ui:"`, "repository:tag"}},
		{"image for a service that does not exist", "dev", map[string]string{images: `{"personalization-worker": "ghcr.io/acme/w:1.0.0"}`},
			[]string{images + ".personalization-worker", "names no service", "personalization-api, personalization-ui"}},
		{"calls a service that does not exist", "dev", map[string]string{workloads: `{"personalization-ui": {"calls": ["recommendations"]}}`},
			[]string{workloads + ".personalization-ui.calls[0]", `"recommendations"`, "personalization-api"}},
		{"HPA target above 100 %", "dev", map[string]string{workloads: `{"personalization-api": {"targetCpuPercent": 170}}`},
			[]string{workloads + ".personalization-api.targetCpuPercent", `"170"`, "1 to 100"}},
		{"Prometheus retention it would not parse", "dev", map[string]string{monitoring: `{"prometheusRetention": "30 days"}`},
			[]string{monitoring + ".prometheusRetention", `"30 days"`, `"15d"`}},
		{"error rate above 100 %", "dev", map[string]string{monitoring: `{"alerts": {"errorRatePercent": 150}}`},
			[]string{monitoring + ".alerts.errorRatePercent", `"150"`, "above 0 and at most 100"}},
		{"latency of zero", "dev", map[string]string{monitoring: `{"alerts": {"latencyWarningSeconds": 0}}`},
			[]string{monitoring + ".alerts.latencyWarningSeconds", `"0"`, "above 0"}},
		{"warning latency above the critical one", "dev", map[string]string{monitoring: `{"alerts": {"latencyWarningSeconds": 2}}`},
			[]string{monitoring + ".alerts.latencyWarningSeconds", `"2"`, "below latencyCriticalSeconds"}},
		{"availability objective of 100 %", "dev", map[string]string{monitoring: `{"alerts": {"availabilityObjective": 100}}`},
			[]string{monitoring + ".alerts.availabilityObjective", `"100"`, "90 to 99.999"}},
		{"alarm receiver that is not https", "production", map[string]string{Project + ":alertmanagerPagingWebhook": "http://pager.example.com/hook"},
			[]string{Project + ":alertmanagerPagingWebhook", `scheme "http"`, "https://"}},
		{"Grafana password missing", "production", map[string]string{Project + ":grafanaAdminPassword": ""},
			[]string{Project + ":grafanaAdminPassword", "is not set", "--secret grafanaAdminPassword"}},
		{"alarm e-mail that is not an address", "dev", map[string]string{monitoring: `{"alarmEmail": "ops"}`},
			[]string{monitoring + ".alarmEmail", `"ops"`, "ops@example.com"}},
		{"canary weights that do not increase", "production", map[string]string{workloads: `{"personalization-api": {"strategy": {"steps": [{"weight": 50, "pause": "1m"}, {"weight": 25}]}}}`},
			[]string{workloads + ".personalization-api.strategy.steps[1].weight", `"25"`, "51 to 100"}},
		{"canary weight above 100", "dev", map[string]string{workloads: `{"personalization-api": {"strategy": {"steps": [{"weight": 120}]}}}`},
			[]string{workloads + ".personalization-api.strategy.steps[0].weight", `"120"`, "1 to 100"}},
		{"pause Argo would refuse", "dev", map[string]string{workloads: `{"personalization-api": {"strategy": {"steps": [{"weight": 10, "pause": "1.5m"}, {"weight": 100}]}}}`},
			[]string{workloads + ".personalization-api.strategy.steps[0].pause", `"1.5m"`, `"5m"`}},
		{"pause Go would refuse", "dev", map[string]string{workloads: `{"personalization-api": {"strategy": {"steps": [{"weight": 10, "pause": "five minutes"}, {"weight": 100}]}}}`},
			[]string{workloads + ".personalization-api.strategy.steps[0].pause", `"five minutes"`, "invalid duration"}},
		{"blue-green without a preview port", "dev", map[string]string{workloads: `{"personalization-ui": {"strategy": {"type": "blueGreen"}}}`},
			[]string{workloads + ".personalization-ui.strategy.previewPort", `"0"`, "preview port", "1 to 65535"}},
		{"analysis error rate of zero", "dev", map[string]string{workloads: `{"personalization-api": {"strategy": {"analysis": {"errorRatePercent": 0}}}}`},
			[]string{workloads + ".personalization-api.strategy.analysis.errorRatePercent", `"0"`, "(0, 100]"}},
		{"latency ratio of one", "dev", map[string]string{workloads: `{"personalization-api": {"strategy": {"analysis": {"latencyRatio": 1}}}}`},
			[]string{workloads + ".personalization-api.strategy.analysis.latencyRatio", `"1"`, "above 1"}},
		{"unknown strategy", "dev", map[string]string{workloads: `{"personalization-api": {"strategy": {"type": "shadow"}}}`},
			[]string{workloads + ".personalization-api.strategy.type", `"shadow"`, `"rolling", "canary", "blueGreen"`}},
		{"continuous backup kept longer than AWS Backup allows", "production", map[string]string{Project + ":disasterRecovery": `{"continuousRetentionDays": 60}`},
			[]string{Project + ":disasterRecovery.continuousRetentionDays", `"60"`, "1 to 35"}},
		{"copy region equal to the primary", "production", map[string]string{Project + ":disasterRecovery": `{"copyRegion": "eu-west-1"}`},
			[]string{Project + ":disasterRecovery.copyRegion", `"eu-west-1"`, "any region but eu-west-1"}},
		{"cron AWS Backup would refuse", "production", map[string]string{Project + ":disasterRecovery": `{"schedule": "0 4 * * *"}`},
			[]string{Project + ":disasterRecovery.schedule", `"0 4 * * *"`, "cron(0 4 ? * * *)"}},
		{"AWS Backup cron with both day fields set", "production", map[string]string{Project + ":disasterRecovery": `{"schedule": "cron(0 4 * * * *)"}`},
			[]string{Project + ":disasterRecovery.schedule", "exactly one day field"}},
		{"restore test schedule AWS Backup would refuse", "production", map[string]string{Project + ":disasterRecovery": `{"restoreTestSchedule": "weekly"}`},
			[]string{Project + ":disasterRecovery.restoreTestSchedule", `"weekly"`, "cron(0 5 ? * SUN *)", "turn restore testing off"}},
		{"copy region other than the replica region", "production", map[string]string{Project + ":disasterRecovery": `{"copyRegion": "us-east-1"}`},
			[]string{Project + ":disasterRecovery.copyRegion", `"us-east-1"`, "one disaster recovery region", `"eu-central-1"`}},
		{"log retention CloudWatch refuses", "dev", map[string]string{Project + ":logging": `{"retentionDays": 10}`},
			[]string{Project + ":logging.retentionDays", `"10"`, "1 3 5 7 14 30"}},
		{"short production log retention without a reason", "production", map[string]string{Project + ":logging": `{"retentionDays": 90, "retentionReason": ""}`},
			[]string{Project + ":logging.retentionReason", "90 days, under a year"}},
		{"sampling ratio above 1", "dev", map[string]string{Project + ":tracing": `{"samplingRatio": 1.5}`},
			[]string{Project + ":tracing.samplingRatio", `"1.5"`, "from 0 (no new traces) to 1"}},
		{"negative sampling ratio", "staging", map[string]string{Project + ":tracing": `{"samplingRatio": -0.1}`},
			[]string{Project + ":tracing.samplingRatio", `"-0.1"`}},
		{"unsupported trace exporter", "dev", map[string]string{Project + ":tracing": `{"exporter": "jaeger"}`},
			[]string{Project + ":tracing.exporter", `"jaeger"`, `"tempo"`, `"otlp"`}},
		{"otlp exporter without an endpoint", "dev", map[string]string{Project + ":tracing": `{"exporter": "otlp"}`},
			[]string{Project + ":tracing.endpoint", "host:port"}},
		{"endpoint with the tempo exporter", "dev", map[string]string{Project + ":tracing": `{"endpoint": "otlp.example.com:4317"}`},
			[]string{Project + ":tracing.endpoint", `"otlp.example.com:4317"`, "exporter \"otlp\""}},
		{"unknown tracing key", "dev", map[string]string{Project + ":tracing": `{"sampling": 0.5}`},
			[]string{Project + ":tracing", "sampling"}},
		{"restore test less often than weekly", "production", map[string]string{Project + ":disasterRecovery": `{"restoreTestSchedule": "cron(0 5 1 * ? *)"}`},
			[]string{Project + ":disasterRecovery.restoreTestSchedule", `"cron(0 5 1 * ? *)"`, "less often than weekly", "every week"}},
		{"bad quota quantity", "dev", map[string]string{namespace: `{"quota": {"requestsMemory": "lots"}}`},
			[]string{namespace + ".quota.requestsMemory", `"lots"`, "2Gi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := map[string]string{RegionKey: "eu-west-1"}
			for k, v := range tt.config {
				if v == "" {
					delete(cfg, k)
					continue
				}
				cfg[k] = v
			}
			src := source(cfg)
			for k, v := range tt.config {
				if v == "" {
					delete(src.(mapSource).values, k)
				}
			}
			p, err := Parse(tt.stack, src)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if p != nil {
				t.Errorf("returned a profile with the error")
			}
			if n := countErrors(err); n != 1 {
				t.Errorf("got %d errors, want one: %v", n, err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error is not a *FieldError: %T %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestListsReplaceDefaults: a list given in config replaces the tier's list;
// its elements do not inherit the default elements' fields.
func TestListsReplaceDefaults(t *testing.T) {
	p, err := Parse("production", source(map[string]string{
		RegionKey:            "eu-west-1",
		Project + ":cluster": `{"nodeGroups": [{"name": "batch", "instanceTypes": ["c6i.large"], "capacityType": "SPOT", "minSize": 0, "desiredSize": 0, "maxSize": 5, "diskSizeGiB": 40}]}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cluster.NodeGroups) != 1 || p.Cluster.NodeGroups[0].Name != "batch" || p.Cluster.NodeGroups[0].MinSize != 0 || p.Cluster.NodeGroups[0].DiskSizeGiB != 40 {
		t.Errorf("node groups %+v, want exactly the given batch group", p.Cluster.NodeGroups)
	}
	if Defaults(Production).Cluster.NodeGroups[0].Name != "general" {
		t.Error("decoding changed the tier's defaults")
	}
}

func TestSecretsMustBeSecretAndAreNeverEchoed(t *testing.T) {
	src := mapSource{values: map[string]string{RegionKey: "eu-west-1", Project + ":redisAuthToken": testToken, Project + ":grafanaAdminPassword": testToken}, secrets: map[string]bool{Project + ":grafanaAdminPassword": true}}
	_, err := Parse("production", src)
	if err == nil || !strings.Contains(err.Error(), "plain text") {
		t.Fatalf("a plaintext AUTH token was accepted: %v", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("the error repeats the secret: %v", err)
	}
	bad := source(map[string]string{RegionKey: "eu-west-1", Project + ":redisAuthToken": "has a space in it, sadly"})
	_, err = Parse("dev", bad)
	if err == nil || strings.Contains(err.Error(), "sadly") {
		t.Errorf("invalid token error %v: accepted, or repeats the secret", err)
	}
	p, err := Parse("dev", source(map[string]string{RegionKey: "eu-west-1"}))
	if err != nil || p.Secrets.RedisAuthToken != testToken {
		t.Errorf("token not read: %v", err)
	}
}

func TestWorkloadOverlayAndRemoval(t *testing.T) {
	p, err := Parse("production", source(map[string]string{
		RegionKey:              "eu-west-1",
		Project + ":workloads": `{"personalization-api": {"maxReplicas": 20}, "personalization-ui": null, "recommender": {"image": "ghcr.io/acme/rec:2.0.1", "minReplicas": 2, "maxReplicas": 4}}`,
		Project + ":images":    `{"personalization-api": "ghcr.io/acme/api:1.4.2"}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	api := p.Workloads[APIService]
	if api.MaxReplicas != 20 || api.MinReplicas != 3 || api.Port != 3000 || api.Image != "ghcr.io/acme/api:1.4.2" || !api.Database {
		t.Errorf("API overlay lost its defaults: %+v", api)
	}
	if _, ok := p.Workloads[UIService]; ok {
		t.Error("null did not remove the UI")
	}
	rec := p.Workloads["recommender"]
	if rec.Port != 3000 || rec.Liveness.Path != "/health" || rec.Resources.Limits.Memory != "512Mi" {
		t.Errorf("a new service does not start from the template: %+v", rec)
	}
}

func TestValidateCron(t *testing.T) {
	for _, ok := range []string{"0 2 * * *", "*/15 * * * *", "0 0-6/2 1,15 * 1-5", "59 23 31 12 6"} {
		if err := ValidateCron(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "0 2 * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7", "5-1 * * * *", "*/0 * * * *", "@daily", "0 2 * * MON"} {
		if err := ValidateCron(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("dev", source(map[string]string{
		RegionKey:            "eu-west-1",
		Project + ":network": `{"cidr": "10.0.0.0/24", "availabilityZones": 9, "natGateways": "many"}`,
	}))
	if n := countErrors(err); n != 3 {
		t.Errorf("got %d errors, want 3 (cidr, zones, NAT): %v", n, err)
	}
}

func TestKeysAreSortedAndUnique(t *testing.T) {
	keys := Keys()
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Errorf("keys not sorted and unique: %v", keys)
		}
	}
}

func countErrors(err error) int {
	if err == nil {
		return 0
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		n := 0
		for _, e := range joined.Unwrap() {
			n += countErrors(e)
		}
		return n
	}
	return 1
}

// FuzzParse feeds the loader arbitrary configuration: it must never panic,
// and whatever it accepts must validate.
func FuzzParse(f *testing.F) {
	f.Add("dev", "", "eu-west-1", `{"cidr":"10.0.0.0/16"}`)
	f.Add("production", "production", "us-east-1", `{"availabilityZones":3,"natGateways":"perAz"}`)
	f.Add("x", "staging", "", `{"cidr":"10.0.0.0/33","flowLogRetentionDays":-1}`)
	f.Add("dev", "dev", "eu-west-1", `{"cidr":1}`)
	f.Add("dev", "dev", "eu-west-1", `[]`)
	f.Fuzz(func(t *testing.T, stack, env, region, network string) {
		p, err := Parse(stack, source(map[string]string{
			Project + ":environment": env,
			RegionKey:                region,
			Project + ":network":     network,
		}))
		if err != nil {
			if p != nil {
				t.Fatalf("profile returned with error %v", err)
			}
			return
		}
		if err := Validate(p); err != nil {
			t.Fatalf("accepted profile does not validate: %v", err)
		}
	})
}
