// Package policytest holds the policy rules' failing variants: one change
// per rule to the compliant production render, the way the anchors test
// theirs. The policy tests expect exactly that rule to fail; the scanner
// bridge's agreement tests expect Trivy's anchored checks to fail too.
package policytest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/render"
)

// Fixture is the production render: the compliant fixture every mutation
// starts from, copied fresh for each.
func Fixture(t testing.TB, base *graph.Graph) *graph.Graph {
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

func Find(t testing.TB, g *graph.Graph, typ, name string) *graph.Resource {
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
func apiWorkload(t testing.TB, g *graph.Graph) *graph.Resource {
	return Find(t, g, rolloutType, "personalization-api-rollout")
}

func apiContainer(t testing.TB, g *graph.Graph) map[string]any {
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

// Variants are the failing variant of every rule, by rule ID.
func Variants() map[string]func(t testing.TB, g *graph.Graph) {
	return map[string]func(t testing.TB, g *graph.Graph){
		"RDS-01": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["storageEncrypted"] = false
		},
		"RDS-02": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["publiclyAccessible"] = true
		},
		"RDS-03": func(t testing.TB, g *graph.Graph) { Find(t, g, rds, "database-postgres").Inputs["multiAz"] = false },
		"RDS-04": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["deletionProtection"] = false
		},
		"RDS-05": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["backupRetentionPeriod"] = 1.0
		},
		"RDS-06": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["iamDatabaseAuthenticationEnabled"] = false
		},
		"RDS-07": func(t testing.TB, g *graph.Graph) {
			delete(Find(t, g, rds, "database-postgres").Inputs, "performanceInsightsKmsKeyId")
		},
		"RDS-08": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["autoMinorVersionUpgrade"] = false
		},
		"RDS-09": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["copyTagsToSnapshot"] = false
		},
		"RDS-10": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["enabledCloudwatchLogsExports"] = []any{}
		},
		"RDS-11": func(t testing.TB, g *graph.Graph) {
			Find(t, g, rds, "database-postgres").Inputs["monitoringInterval"] = 0.0
		},
		"RDS-12": func(t testing.TB, g *graph.Graph) {
			pg := Find(t, g, "aws:rds/parameterGroup:ParameterGroup", "database-params")
			for _, p := range pg.Inputs["parameters"].([]any) {
				if p.(map[string]any)["name"] == "rds.force_ssl" {
					p.(map[string]any)["value"] = "0"
				}
			}
		},
		"EKS-01": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, eks, "cluster-eks").Inputs, "vpcConfig")["endpointPrivateAccess"] = false
		},
		"EKS-02": func(t testing.TB, g *graph.Graph) {
			vc := m(Find(t, g, eks, "cluster-eks").Inputs, "vpcConfig")
			vc["endpointPublicAccess"], vc["publicAccessCidrs"] = true, []any{"0.0.0.0/0"}
		},
		"EKS-03": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, eks, "cluster-eks").Inputs, "encryptionConfig")["resources"] = []any{}
		},
		"EKS-04": func(t testing.TB, g *graph.Graph) {
			Find(t, g, eks, "cluster-eks").Inputs["enabledClusterLogTypes"] = []any{"api", "audit", "authenticator", "controllerManager"}
		},
		"EKS-05": func(t testing.TB, g *graph.Graph) { Find(t, g, eks, "cluster-eks").Inputs["version"] = "1.21" },
		"EKS-06": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:eks/nodeGroup:NodeGroup", "cluster-nodes-general").Inputs["remoteAccess"] = map[string]any{"ec2SshKey": "ops"}
		},
		"EKS-07": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, lt, "cluster-nodes-general").Inputs, "metadataOptions")["httpTokens"] = "optional"
		},
		"EKS-08": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, lt, "cluster-nodes-general").Inputs, "metadataOptions")["httpPutResponseHopLimit"] = 2.0
		},
		"EC-01": func(t testing.TB, g *graph.Graph) {
			Find(t, g, redis, "cache-redis").Inputs["atRestEncryptionEnabled"] = false
		},
		"EC-02": func(t testing.TB, g *graph.Graph) {
			Find(t, g, redis, "cache-redis").Inputs["transitEncryptionEnabled"] = false
		},
		"EC-03": func(t testing.TB, g *graph.Graph) { delete(Find(t, g, redis, "cache-redis").Inputs, "authToken") },
		"EC-04": func(t testing.TB, g *graph.Graph) {
			Find(t, g, redis, "cache-redis").Inputs["automaticFailoverEnabled"] = false
		},
		"EC-05": func(t testing.TB, g *graph.Graph) { Find(t, g, redis, "cache-redis").Inputs["multiAzEnabled"] = false },
		"EC-06": func(t testing.TB, g *graph.Graph) {
			Find(t, g, redis, "cache-redis").Inputs["snapshotRetentionLimit"] = 0.0
		},
		"EC-07": func(t testing.TB, g *graph.Graph) {
			Find(t, g, redis, "cache-redis").Inputs["autoMinorVersionUpgrade"] = false
		},
		"S3-01": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backup-public-access").Inputs["blockPublicPolicy"] = false
		},
		"S3-02": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, "aws:s3/bucketVersioningV2:BucketVersioningV2", "backup-versioning").Inputs, "versioningConfiguration")["status"] = "Suspended"
		},
		"S3-03": func(t testing.TB, g *graph.Graph) {
			e := Find(t, g, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "backup-encryption")
			// SSE-S3 instead of the bucket's KMS key.
			e.Inputs["rules"].([]any)[0].(map[string]any)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "AES256"}
		},
		"S3-04": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:s3/bucketPolicy:BucketPolicy", "backup-tls-only").Inputs["policy"] = `{"Version":"2012-10-17","Statement":[]}`
		},
		"S3-05": func(t testing.TB, g *graph.Graph) {
			p := Find(t, g, "aws:s3/bucketPolicy:BucketPolicy", "backup-tls-only")
			p.Inputs["policy"] = strings.Replace(p.Inputs["policy"].(string), `"Statement":[`,
				`"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::backup-0ff11e/*"]},`, 1)
		},
		"S3-06": func(t testing.TB, g *graph.Graph) {
			l := Find(t, g, "aws:s3/bucketLoggingV2:BucketLoggingV2", "backup-access-logging")
			delete(l.PropertyDependencies, "bucket")
		},
		"S3-07": func(t testing.TB, g *graph.Graph) {
			l := Find(t, g, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "backup-lifecycle")
			delete(l.Inputs["rules"].([]any)[0].(map[string]any), "abortIncompleteMultipartUpload")
		},
		"S3-08": func(t testing.TB, g *graph.Graph) {
			delete(Find(t, g, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "backup-replication").PropertyDependencies, "bucket")
		},
		"NET-01": func(t testing.TB, g *graph.Graph) {
			r := Find(t, g, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "database-from-nodes")
			// SSH from anywhere.
			delete(r.Inputs, "referencedSecurityGroupId")
			delete(r.PropertyDependencies, "referencedSecurityGroupId")
			r.Inputs["cidrIpv4"], r.Inputs["fromPort"], r.Inputs["toPort"] = "0.0.0.0/0", 22.0, 22.0
		},
		"NET-02": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:ec2/securityGroup:SecurityGroup", "database-sg").Inputs["egress"] = []any{
				map[string]any{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": []any{"0.0.0.0/0"}},
			}
		},
		"NET-03": func(t testing.TB, g *graph.Graph) {
			// The flow log watches another VPC, not the stack's.
			fl := Find(t, g, "aws:ec2/flowLog:FlowLog", "network-flow-log")
			fl.Dependencies = without(fl.Dependencies, Find(t, g, "aws:ec2/vpc:Vpc", "network-vpc").URN)
			delete(fl.PropertyDependencies, "vpcId")
			fl.Inputs["vpcId"] = "vpc-0another"
		},
		"NET-04": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-sg").Inputs["ingress"] = []any{
				map[string]any{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "self": true},
			}
		},
		"NET-05": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:ec2/subnet:Subnet", "network-private-az1").Inputs["mapPublicIpOnLaunch"] = true
		},
		"CW-01": func(t testing.TB, g *graph.Graph) {
			Find(t, g, logGroup, "network-flow-logs").Inputs["retentionInDays"] = 30.0
		},
		"CW-02": func(t testing.TB, g *graph.Graph) {
			delete(Find(t, g, logGroup, "network-flow-logs").Inputs, "kmsKeyId")
		},
		"KMS-01": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:kms/key:Key", "cache-key").Inputs["enableKeyRotation"] = false
		},
		"IAM-01": func(t testing.TB, g *graph.Graph) {
			p := Find(t, g, "aws:iam/rolePolicy:RolePolicy", "network-flow-logs")
			p.Inputs["policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
		},
		"IAM-02": func(t testing.TB, g *graph.Graph) {
			r := Find(t, g, "aws:iam/role:Role", "database-backup-irsa")
			r.Inputs["assumeRolePolicy"] = strings.Replace(r.Inputs["assumeRolePolicy"].(string),
				"system:serviceaccount:personalization:database-backup", "system:serviceaccount:personalization:*", 1)
		},
		"ECR-01": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:ecr/repository:Repository", "registry-personalization-api").Inputs["imageTagMutability"] = "MUTABLE"
		},
		"ECR-02": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, "aws:ecr/repository:Repository", "registry-personalization-api").Inputs, "imageScanningConfiguration")["scanOnPush"] = false
		},
		"ECR-03": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:ecr/repository:Repository", "registry-personalization-api").Inputs["encryptionConfigurations"] = []any{map[string]any{"encryptionType": "AES256"}}
		},
		"ECR-04": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:ecr/repositoryPolicy:RepositoryPolicy", "registry-personalization-api").Inputs["policy"] =
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}`
		},
		"SQS-01": func(t testing.TB, g *graph.Graph) {
			delete(Find(t, g, "aws:sqs/queue:Queue", "queue").Inputs, "kmsMasterKeyId")
		},
		"SQS-02": func(t testing.TB, g *graph.Graph) {
			q := Find(t, g, "aws:sqs/queue:Queue", "queue")
			delete(q.Inputs, "redrivePolicy")
			delete(q.PropertyDependencies, "redrivePolicy")
		},
		"SQS-03": func(t testing.TB, g *graph.Graph) {
			Find(t, g, "aws:sqs/queuePolicy:QueuePolicy", "queue").Inputs["policy"] =
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sqs:*","Resource":"*"}]}`
		},
		"IAM-03": func(t testing.TB, g *graph.Graph) {
			// A pipeline role trusting every repository of the owner.
			g.Resources = append(g.Resources, &graph.Resource{
				URN: "urn:pulumi:production::personalization-platform::aws:iam/role:Role::ci", Type: "aws:iam/role:Role", Name: "ci",
				Inputs: map[string]any{"assumeRolePolicy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
					`"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},` +
					`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"},` +
					`"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}`},
			})
		},
		"BAK-01": func(t testing.TB, g *graph.Graph) {
			delete(Find(t, g, "aws:backup/vault:Vault", "dr-vault").Inputs, "kmsKeyArn")
		},
		"BAK-02": func(t testing.TB, g *graph.Graph) {
			p := Find(t, g, "aws:backup/plan:Plan", "dr-plan")
			for _, r := range p.Inputs["rules"].([]any) {
				delete(r.(map[string]any), "copyActions")
			}
		},
		"SNS-01": func(t testing.TB, g *graph.Graph) {
			delete(Find(t, g, "aws:sns/topic:Topic", "monitoring-alarms").Inputs, "kmsMasterKeyId")
		},
		"K8S-01": func(t testing.TB, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext")["runAsNonRoot"] = false
			m(apiWorkload(t, g).Inputs, "spec", "template", "spec", "securityContext")["runAsNonRoot"] = false
		},
		"K8S-02": func(t testing.TB, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext")["readOnlyRootFilesystem"] = false
		},
		"K8S-03": func(t testing.TB, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext")["allowPrivilegeEscalation"] = true
		},
		"K8S-04": func(t testing.TB, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext", "capabilities")["drop"] = []any{"NET_RAW"}
		},
		"K8S-05": func(t testing.TB, g *graph.Graph) {
			m(apiWorkload(t, g).Inputs, "spec", "template", "spec")["hostNetwork"] = true
		},
		"K8S-06": func(t testing.TB, g *graph.Graph) {
			m(apiContainer(t, g), "securityContext", "seccompProfile")["type"] = "Unconfined"
		},
		"K8S-07": func(t testing.TB, g *graph.Graph) { delete(m(apiContainer(t, g), "resources", "limits"), "memory") },
		"K8S-08": func(t testing.TB, g *graph.Graph) {
			c := apiContainer(t, g)
			c["readinessProbe"] = c["livenessProbe"]
		},
		"K8S-09": func(t testing.TB, g *graph.Graph) { apiContainer(t, g)["image"] = "ghcr.io/acme/api:latest" },
		"K8S-10": func(t testing.TB, g *graph.Graph) {
			m(apiWorkload(t, g).Inputs, "spec", "template", "spec")["automountServiceAccountToken"] = true
		},
		"K8S-11": func(t testing.TB, g *graph.Graph) {
			m(apiWorkload(t, g).Inputs, "spec", "template", "spec")["serviceAccountName"] = "default"
		},
		"K8S-12": func(t testing.TB, g *graph.Graph) {
			remove(g, Find(t, g, "kubernetes:policy/v1:PodDisruptionBudget", "personalization-api"))
		},
		"K8S-13": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, "kubernetes:policy/v1:PodDisruptionBudget", "personalization-api").Inputs, "spec")["maxUnavailable"] = 0.0
		},
		"K8S-14": func(t testing.TB, g *graph.Graph) {
			remove(g, Find(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "personalization-api"))
		},
		"K8S-15": func(t testing.TB, g *graph.Graph) {
			delete(m(apiWorkload(t, g).Inputs, "spec", "template", "spec"), "topologySpreadConstraints")
		},
		"K8S-16": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "personalization-api").Inputs, "spec")["minReplicas"] = 1.0
		},
		"K8S-17": func(t testing.TB, g *graph.Graph) {
			delete(m(Find(t, g, "kubernetes:batch/v1:CronJob", "database-backup").Inputs, "spec"), "startingDeadlineSeconds")
		},
		"K8S-18": func(t testing.TB, g *graph.Graph) {
			m(Find(t, g, "kubernetes:core/v1:Service", "personalization-ui").Inputs, "spec")["externalIPs"] = []any{"203.0.113.10"}
		},
		"K8S-19": func(t testing.TB, g *graph.Graph) {
			// The autoscaler's release without its own wait for the node
			// groups, through a Kubernetes provider that does not wait either.
			autoscaler := Find(t, g, "kubernetes:helm.sh/v3:Release", "cluster-autoscaler")
			autoscaler.Dependencies = nil
			g.ByURN(autoscaler.Provider).Dependencies = nil
		},
		"PUL-01": func(t testing.TB, g *graph.Graph) { Find(t, g, rds, "database-postgres").Protect = false },
		"PUL-02": func(t testing.TB, g *graph.Graph) {
			c := apiContainer(t, g)
			c["env"] = append(c["env"].([]any), map[string]any{"name": "ADMIN_PASSWORD", "value": "hunter2"})
		},
	}
}
