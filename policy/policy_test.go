package policy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/golden"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/policy"
	"github.com/personalization/platform/render"
)

func TestEveryStackPasses(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			rep, err := policy.Evaluate(g, stack == "production", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				t.Errorf("%s %s: %s", f.Rule, f.URN, f.Message)
			}
			if rep.Checked < 200 {
				t.Errorf("only %d checks ran", rep.Checked)
			}
		})
	}
}

// fixture is the production render: the compliant fixture every mutation
// starts from, copied fresh for each.
func fixture(t *testing.T, base *graph.Graph) *graph.Graph {
	t.Helper()
	raw, err := render.MarshalJSON(base)
	if err != nil {
		t.Fatal(err)
	}
	var g graph.Graph
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func find(t *testing.T, g *graph.Graph, typ, name string) *graph.Resource {
	t.Helper()
	for _, r := range g.OfType(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return nil
}

func m(v any, path ...string) map[string]any {
	cur := v.(map[string]any)
	for _, p := range path {
		cur = cur[p].(map[string]any)
	}
	return cur
}

// apiWorkload is the API's pod owner: in production a canary Rollout.
func apiWorkload(t *testing.T, g *graph.Graph) *graph.Resource {
	return find(t, g, rolloutType, "personalization-api-rollout")
}

func apiContainer(t *testing.T, g *graph.Graph) map[string]any {
	return m(apiWorkload(t, g).Inputs, "spec", "template", "spec")["containers"].([]any)[0].(map[string]any)
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func remove(g *graph.Graph, r *graph.Resource) {
	g.Resources = slices.DeleteFunc(g.Resources, func(x *graph.Resource) bool { return x == r })
}

const (
	rds         = "aws:rds/instance:Instance"
	redis       = "aws:elasticache/replicationGroup:ReplicationGroup"
	eks         = "aws:eks/cluster:Cluster"
	lt          = "aws:ec2/launchTemplate:LaunchTemplate"
	rolloutType = "kubernetes:argoproj.io/v1alpha1:Rollout"
	logGroup    = "aws:cloudwatch/logGroup:LogGroup"
)

// TestEveryRuleCanFail changes one property of the compliant fixture per
// rule, the way the anchors test theirs, and expects exactly that rule.
func TestEveryRuleCanFail(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	mutations := map[string]func(t *testing.T, g *graph.Graph){
		"RDS-01": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["storageEncrypted"] = false
		},
		"RDS-02": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["publiclyAccessible"] = true
		},
		"RDS-03": func(t *testing.T, g *graph.Graph) { find(t, g, rds, "database-postgres").Inputs["multiAz"] = false },
		"RDS-04": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["deletionProtection"] = false
		},
		"RDS-05": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["backupRetentionPeriod"] = 6.0
		},
		"RDS-06": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["iamDatabaseAuthenticationEnabled"] = false
		},
		"RDS-07": func(t *testing.T, g *graph.Graph) {
			delete(find(t, g, rds, "database-postgres").Inputs, "performanceInsightsKmsKeyId")
		},
		"RDS-08": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["autoMinorVersionUpgrade"] = false
		},
		"RDS-09": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["copyTagsToSnapshot"] = false
		},
		"RDS-10": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["enabledCloudwatchLogsExports"] = []any{}
		},
		"RDS-11": func(t *testing.T, g *graph.Graph) {
			find(t, g, rds, "database-postgres").Inputs["monitoringInterval"] = 0.0
		},
		"RDS-12": func(t *testing.T, g *graph.Graph) {
			pg := find(t, g, "aws:rds/parameterGroup:ParameterGroup", "database-params")
			for _, p := range pg.Inputs["parameters"].([]any) {
				if p.(map[string]any)["name"] == "rds.force_ssl" {
					p.(map[string]any)["value"] = "0"
				}
			}
		},
		"EKS-01": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, eks, "cluster-eks").Inputs, "vpcConfig")["endpointPrivateAccess"] = false
		},
		"EKS-02": func(t *testing.T, g *graph.Graph) {
			vc := m(find(t, g, eks, "cluster-eks").Inputs, "vpcConfig")
			vc["endpointPublicAccess"], vc["publicAccessCidrs"] = true, []any{"0.0.0.0/0"}
		},
		"EKS-03": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, eks, "cluster-eks").Inputs, "encryptionConfig")["resources"] = []any{}
		},
		"EKS-04": func(t *testing.T, g *graph.Graph) {
			find(t, g, eks, "cluster-eks").Inputs["enabledClusterLogTypes"] = []any{"api", "audit", "authenticator", "controllerManager"}
		},
		"EKS-05": func(t *testing.T, g *graph.Graph) { find(t, g, eks, "cluster-eks").Inputs["version"] = "1.21" },
		"EKS-06": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:eks/nodeGroup:NodeGroup", "cluster-nodes-general").Inputs["remoteAccess"] = map[string]any{"ec2SshKey": "ops"}
		},
		"EKS-07": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, lt, "cluster-nodes-general").Inputs, "metadataOptions")["httpTokens"] = "optional"
		},
		"EKS-08": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, lt, "cluster-nodes-general").Inputs, "metadataOptions")["httpPutResponseHopLimit"] = 2.0
		},
		"EC-01": func(t *testing.T, g *graph.Graph) {
			find(t, g, redis, "cache-redis").Inputs["atRestEncryptionEnabled"] = false
		},
		"EC-02": func(t *testing.T, g *graph.Graph) {
			find(t, g, redis, "cache-redis").Inputs["transitEncryptionEnabled"] = false
		},
		"EC-03": func(t *testing.T, g *graph.Graph) { delete(find(t, g, redis, "cache-redis").Inputs, "authToken") },
		"EC-04": func(t *testing.T, g *graph.Graph) {
			find(t, g, redis, "cache-redis").Inputs["automaticFailoverEnabled"] = false
		},
		"EC-05": func(t *testing.T, g *graph.Graph) { find(t, g, redis, "cache-redis").Inputs["multiAzEnabled"] = false },
		"EC-06": func(t *testing.T, g *graph.Graph) {
			find(t, g, redis, "cache-redis").Inputs["snapshotRetentionLimit"] = 0.0
		},
		"EC-07": func(t *testing.T, g *graph.Graph) {
			find(t, g, redis, "cache-redis").Inputs["autoMinorVersionUpgrade"] = false
		},
		"S3-01": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backup-public-access").Inputs["blockPublicPolicy"] = false
		},
		"S3-02": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, "aws:s3/bucketVersioningV2:BucketVersioningV2", "backup-versioning").Inputs, "versioningConfiguration")["status"] = "Suspended"
		},
		"S3-03": func(t *testing.T, g *graph.Graph) {
			e := find(t, g, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "backup-encryption")
			e.Inputs["rules"].([]any)[0].(map[string]any)["bucketKeyEnabled"] = false
		},
		"S3-04": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:s3/bucketPolicy:BucketPolicy", "backup-tls-only").Inputs["policy"] = `{"Version":"2012-10-17","Statement":[]}`
		},
		"S3-05": func(t *testing.T, g *graph.Graph) {
			p := find(t, g, "aws:s3/bucketPolicy:BucketPolicy", "backup-tls-only")
			p.Inputs["policy"] = strings.Replace(p.Inputs["policy"].(string), `"Statement":[`,
				`"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::backup-0ff11e/*"]},`, 1)
		},
		"S3-06": func(t *testing.T, g *graph.Graph) {
			l := find(t, g, "aws:s3/bucketLoggingV2:BucketLoggingV2", "backup-access-logging")
			delete(l.PropertyDependencies, "bucket")
		},
		"S3-07": func(t *testing.T, g *graph.Graph) {
			l := find(t, g, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "backup-lifecycle")
			delete(l.Inputs["rules"].([]any)[0].(map[string]any), "abortIncompleteMultipartUpload")
		},
		"S3-08": func(t *testing.T, g *graph.Graph) {
			delete(find(t, g, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "backup-replication").PropertyDependencies, "bucket")
		},
		"NET-01": func(t *testing.T, g *graph.Graph) {
			r := find(t, g, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "database-from-nodes")
			delete(r.Inputs, "referencedSecurityGroupId")
			r.Inputs["cidrIpv4"] = "0.0.0.0/0"
		},
		"NET-02": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:ec2/securityGroup:SecurityGroup", "database-sg").Inputs["egress"] = []any{
				map[string]any{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": []any{"0.0.0.0/0"}},
			}
		},
		"NET-03": func(t *testing.T, g *graph.Graph) {
			fl := find(t, g, "aws:ec2/flowLog:FlowLog", "network-flow-log")
			fl.Dependencies = without(fl.Dependencies, find(t, g, "aws:ec2/vpc:Vpc", "network-vpc").URN)
		},
		"NET-04": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-sg").Inputs["ingress"] = []any{
				map[string]any{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "self": true},
			}
		},
		"NET-05": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:ec2/subnet:Subnet", "network-private-az1").Inputs["mapPublicIpOnLaunch"] = true
		},
		"CW-01": func(t *testing.T, g *graph.Graph) {
			find(t, g, logGroup, "network-flow-logs").Inputs["retentionInDays"] = 30.0
		},
		"CW-02": func(t *testing.T, g *graph.Graph) {
			delete(find(t, g, logGroup, "network-flow-logs").Inputs, "kmsKeyId")
		},
		"KMS-01": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:kms/key:Key", "cache-key").Inputs["enableKeyRotation"] = false
		},
		"IAM-01": func(t *testing.T, g *graph.Graph) {
			p := find(t, g, "aws:iam/rolePolicy:RolePolicy", "network-flow-logs")
			p.Inputs["policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
		},
		"IAM-02": func(t *testing.T, g *graph.Graph) {
			r := find(t, g, "aws:iam/role:Role", "database-backup-irsa")
			r.Inputs["assumeRolePolicy"] = strings.Replace(r.Inputs["assumeRolePolicy"].(string),
				"system:serviceaccount:personalization:database-backup", "system:serviceaccount:personalization:*", 1)
		},
		"ECR-01": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:ecr/repository:Repository", "registry-personalization-api").Inputs["imageTagMutability"] = "MUTABLE"
		},
		"ECR-02": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, "aws:ecr/repository:Repository", "registry-personalization-api").Inputs, "imageScanningConfiguration")["scanOnPush"] = false
		},
		"ECR-03": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:ecr/repository:Repository", "registry-personalization-api").Inputs["encryptionConfigurations"] = []any{map[string]any{"encryptionType": "AES256"}}
		},
		"ECR-04": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:ecr/repositoryPolicy:RepositoryPolicy", "registry-personalization-api").Inputs["policy"] =
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}`
		},
		"SQS-01": func(t *testing.T, g *graph.Graph) {
			delete(find(t, g, "aws:sqs/queue:Queue", "queue").Inputs, "kmsMasterKeyId")
		},
		"SQS-02": func(t *testing.T, g *graph.Graph) {
			q := find(t, g, "aws:sqs/queue:Queue", "queue")
			delete(q.Inputs, "redrivePolicy")
			delete(q.PropertyDependencies, "redrivePolicy")
		},
		"SQS-03": func(t *testing.T, g *graph.Graph) {
			find(t, g, "aws:sqs/queuePolicy:QueuePolicy", "queue").Inputs["policy"] =
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sqs:*","Resource":"*"}]}`
		},
		"IAM-03": func(t *testing.T, g *graph.Graph) {
			// A pipeline role trusting every repository of the owner.
			g.Resources = append(g.Resources, &graph.Resource{
				URN: "urn:pulumi:production::personalization-platform::aws:iam/role:Role::ci", Type: "aws:iam/role:Role", Name: "ci",
				Inputs: map[string]any{"assumeRolePolicy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
					`"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},` +
					`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"},` +
					`"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}`},
			})
		},
		"BAK-01": func(t *testing.T, g *graph.Graph) {
			delete(find(t, g, "aws:backup/vault:Vault", "dr-vault").Inputs, "kmsKeyArn")
		},
		"BAK-02": func(t *testing.T, g *graph.Graph) {
			p := find(t, g, "aws:backup/plan:Plan", "dr-plan")
			for _, r := range p.Inputs["rules"].([]any) {
				delete(r.(map[string]any), "copyActions")
			}
		},
		"SNS-01": func(t *testing.T, g *graph.Graph) {
			delete(find(t, g, "aws:sns/topic:Topic", "monitoring-alarms").Inputs, "kmsMasterKeyId")
		},
		"K8S-01": func(t *testing.T, g *graph.Graph) { m(apiContainer(t, g), "securityContext")["runAsNonRoot"] = false },
		"K8S-02": func(t *testing.T, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext")["readOnlyRootFilesystem"] = false
		},
		"K8S-03": func(t *testing.T, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext")["allowPrivilegeEscalation"] = true
		},
		"K8S-04": func(t *testing.T, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext", "capabilities")["drop"] = []any{"NET_RAW"}
		},
		"K8S-05": func(t *testing.T, g *graph.Graph) {
			m(apiWorkload(t, g).Inputs, "spec", "template", "spec")["hostNetwork"] = true
		},
		"K8S-06": func(t *testing.T, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext", "seccompProfile")["type"] = "Unconfined"
		},
		"K8S-07": func(t *testing.T, g *graph.Graph) { delete(m(apiContainer(t, g), "resources", "limits"), "memory") },
		"K8S-08": func(t *testing.T, g *graph.Graph) {
			c := apiContainer(t, g)
			c["readinessProbe"] = c["livenessProbe"]
		},
		"K8S-09": func(t *testing.T, g *graph.Graph) { apiContainer(t, g)["image"] = "ghcr.io/acme/api:latest" },
		"K8S-10": func(t *testing.T, g *graph.Graph) {
			m(apiWorkload(t, g).Inputs, "spec", "template", "spec")["automountServiceAccountToken"] = true
		},
		"K8S-11": func(t *testing.T, g *graph.Graph) {
			m(apiWorkload(t, g).Inputs, "spec", "template", "spec")["serviceAccountName"] = "default"
		},
		"K8S-12": func(t *testing.T, g *graph.Graph) {
			remove(g, find(t, g, "kubernetes:policy/v1:PodDisruptionBudget", "personalization-api"))
		},
		"K8S-13": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, "kubernetes:policy/v1:PodDisruptionBudget", "personalization-api").Inputs, "spec")["maxUnavailable"] = 0.0
		},
		"K8S-14": func(t *testing.T, g *graph.Graph) {
			remove(g, find(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "personalization-api"))
		},
		"K8S-15": func(t *testing.T, g *graph.Graph) {
			delete(m(apiWorkload(t, g).Inputs, "spec", "template", "spec"), "topologySpreadConstraints")
		},
		"K8S-16": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "personalization-api").Inputs, "spec")["minReplicas"] = 1.0
		},
		"K8S-17": func(t *testing.T, g *graph.Graph) {
			delete(m(find(t, g, "kubernetes:batch/v1:CronJob", "database-backup").Inputs, "spec"), "startingDeadlineSeconds")
		},
		"K8S-18": func(t *testing.T, g *graph.Graph) {
			m(find(t, g, "kubernetes:core/v1:Service", "personalization-ui").Inputs, "spec")["type"] = "NodePort"
		},
		"PUL-01": func(t *testing.T, g *graph.Graph) { find(t, g, rds, "database-postgres").Protect = false },
		"PUL-02": func(t *testing.T, g *graph.Graph) {
			c := apiContainer(t, g)
			c["env"] = append(c["env"].([]any), map[string]any{"name": "ADMIN_PASSWORD", "value": "hunter2"})
		},
	}
	for _, rule := range policy.Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			mutate, ok := mutations[rule.ID]
			if !ok {
				t.Fatalf("%s has no failing variant: a rule that cannot fail is a defect", rule.ID)
			}
			g := fixture(t, base)
			mutate(t, g)
			rep, err := policy.Evaluate(g, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range rep.Findings {
				if !slices.Contains(failed, f.Rule) {
					failed = append(failed, f.Rule)
				}
			}
			sort.Strings(failed)
			if !slices.Equal(failed, []string{rule.ID}) {
				t.Errorf("the variant fails %v, want exactly [%s]; findings: %+v", failed, rule.ID, rep.Findings)
			}
		})
	}
	if len(mutations) != len(policy.Rules()) {
		t.Errorf("%d variants for %d rules", len(mutations), len(policy.Rules()))
	}
}

func TestProductionOnlyRulesSpareOtherStacks(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	g := fixture(t, base)
	find(t, g, rds, "database-postgres").Inputs["multiAz"] = false
	rep, err := policy.Evaluate(g, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Rule == "RDS-03" {
			t.Error("RDS-03 (production only) judged a non-production stack")
		}
	}
}

func TestWaivers(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	g := fixture(t, base)
	db := find(t, g, rds, "database-postgres")
	db.Inputs["multiAz"] = false
	rep, err := policy.Evaluate(g, true, []policy.Waiver{{Rule: "RDS-03", URN: db.URN, Reason: "a planned single-zone test window"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() != 0 || len(rep.Findings) != 1 || !rep.Findings[0].Waived {
		t.Errorf("findings %+v, want one waived", rep.Findings)
	}
	for _, bad := range []policy.Waiver{
		{Rule: "RDS-03", URN: db.URN},
		{Rule: "RDS-99", URN: db.URN, Reason: "x"},
		{Rule: "RDS-03", URN: "urn:pulumi:production::personalization-platform::aws:rds/instance:Instance::gone", Reason: "x"},
	} {
		if _, err := policy.Evaluate(g, true, []policy.Waiver{bad}); err == nil {
			t.Errorf("waiver %+v accepted", bad)
		}
	}
}

// TestREADMEListsTheRules: the README's table is generated from the rules;
// `go test ./... -update` rewrites it.
func TestREADMEListsTheRules(t *testing.T) {
	dir, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "README.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- policy-rules:start -->\n", "<!-- policy-rules:end -->"
	s := string(raw)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", start, end)
	}
	want := s[:i+len(start)] + policy.Markdown() + s[j:]
	golden.Assert(t, path, []byte(want))
}

// TestShortRetentionNeedsAReason: production's container log groups keep
// 90 days and pass CW-01 on their retention-reason tag alone.
func TestShortRetentionNeedsAReason(t *testing.T) {
	g := fixture(t, platformtest.Render(t, "production", nil))
	app := find(t, g, "aws:cloudwatch/logGroup:LogGroup", "log-shipping-application")
	if app.Inputs["retentionInDays"] != 90.0 {
		t.Fatalf("application logs kept %v days, want the production default of 90", app.Inputs["retentionInDays"])
	}
	delete(m(app.Inputs, "tags"), "retention-reason")
	rep, err := policy.Evaluate(g, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != "CW-01" || rep.Findings[0].URN != app.URN {
		t.Errorf("without its reason, findings %+v, want CW-01 on %s alone", rep.Findings, app.URN)
	}
}
