package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/stacks"
)

// Type tokens the rules read.
const (
	rdsInstance      = "aws:rds/instance:Instance"
	rdsParams        = "aws:rds/parameterGroup:ParameterGroup"
	eksCluster       = "aws:eks/cluster:Cluster"
	eksNodeGroup     = "aws:eks/nodeGroup:NodeGroup"
	launchTemplate   = "aws:ec2/launchTemplate:LaunchTemplate"
	redisGroup       = "aws:elasticache/replicationGroup:ReplicationGroup"
	cacheCluster     = "aws:elasticache/cluster:Cluster"
	bucketV2         = "aws:s3/bucketV2:BucketV2"
	bucketLegacy     = "aws:s3/bucket:Bucket"
	securityGroup    = "aws:ec2/securityGroup:SecurityGroup"
	sgRule           = "aws:ec2/securityGroupRule:SecurityGroupRule"
	sgIngress        = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	sgEgress         = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	vpcType          = "aws:ec2/vpc:Vpc"
	flowLog          = "aws:ec2/flowLog:FlowLog"
	defaultSG        = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	subnetType       = "aws:ec2/subnet:Subnet"
	logGroup         = "aws:cloudwatch/logGroup:LogGroup"
	kmsKey           = "aws:kms/key:Key"
	iamRole          = "aws:iam/role:Role"
	iamPolicy        = "aws:iam/policy:Policy"
	iamRolePolicy    = "aws:iam/rolePolicy:RolePolicy"
	snsTopic         = "aws:sns/topic:Topic"
	publicAccess     = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	bucketPolicy     = "aws:s3/bucketPolicy:BucketPolicy"
	bucketACL        = "aws:s3/bucketAclV2:BucketAclV2"
	replicationCfg   = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
	worldIPv4        = "0.0.0.0/0"
	worldIPv6        = "::/0"
	secureTransport  = "aws:SecureTransport"
	sseConfigV2      = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	sseConfig        = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
	versioningV2     = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	versioning       = "aws:s3/bucketVersioning:BucketVersioning"
	loggingV2        = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	loggingLegacy    = "aws:s3/bucketLogging:BucketLogging"
	lifecycleV2      = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	lifecycleLegacy  = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
	replicationOther = "aws:s3/bucketReplicationConfiguration:BucketReplicationConfiguration"
)

var buckets = []string{bucketV2, bucketLegacy}

func awsRules() []Rule {
	return []Rule{
		{ID: "RDS-01", Title: "storage encrypted with a customer key", Severity: High, Types: []string{rdsInstance}, Anchors: "CK_AWS_16, TV-0080, AG",
			Rationale: "A snapshot or disk of an unencrypted database is readable by anyone who gets it.", Remediation: "Set storageEncrypted and kmsKeyId.",
			Check: func(_ *Context, r *graph.Resource) string {
				if !isTrue(r, "storageEncrypted") || str(r, "kmsKeyId") == "" {
					return "storage is not encrypted with a KMS key"
				}
				return ""
			}},
		{ID: "RDS-02", Title: "not publicly accessible", Severity: High, Types: []string{rdsInstance}, Anchors: "CK_AWS_17, TV-0180, AG, KX",
			Rationale: "A public endpoint puts the database one leaked password away from the internet.", Remediation: "Set publiclyAccessible to false.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(isTrue(r, "publiclyAccessible"), "the instance is publicly accessible")
			}},
		{ID: "RDS-03", Title: "multi-AZ", Severity: Medium, Production: true, Types: []string{rdsInstance}, Anchors: "CK_AWS_157, AG, KX",
			Rationale: "A single-zone instance is down for the length of a zone outage.", Remediation: "Set database.multiAz.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "multiAz"), "the instance is in one zone")
			}},
		{ID: "RDS-04", Title: "deletion protection and a final snapshot", Severity: High, Production: true, Types: []string{rdsInstance}, Anchors: "CK_AWS_293, TV-0177",
			Rationale: "One wrong destroy must not delete the data without a copy.", Remediation: "Set database.deletionProtection (which keeps a final snapshot).",
			Check: func(_ *Context, r *graph.Resource) string {
				if !isTrue(r, "deletionProtection") || isTrue(r, "skipFinalSnapshot") || str(r, "finalSnapshotIdentifier") == "" {
					return "deletion protection is off or no final snapshot is kept"
				}
				return ""
			}},
		{ID: "RDS-05", Title: "backups kept 3 days (production 7)", Severity: Medium, Types: []string{rdsInstance}, Anchors: "CK_AWS_133, TV-0077, PC",
			Rationale: "Point-in-time recovery reaches back only as far as the retention.", Remediation: "Raise database.backupRetentionDays.",
			Check: func(c *Context, r *graph.Resource) string {
				want := 3.0
				if c.Production {
					want = 7
				}
				if n, _ := number(r, "backupRetentionPeriod"); n < want {
					return fmt.Sprintf("backups are kept %g days, below %g", n, want)
				}
				return ""
			}},
		{ID: "RDS-06", Title: "IAM database authentication", Severity: Low, Types: []string{rdsInstance}, Anchors: "CK_AWS_161, TV-0176",
			Rationale: "IAM authentication gives short-lived, auditable database credentials.", Remediation: "Set iamDatabaseAuthenticationEnabled.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "iamDatabaseAuthenticationEnabled"), "IAM authentication is off")
			}},
		{ID: "RDS-07", Title: "Performance Insights with its KMS key", Severity: Low, Production: true, Types: []string{rdsInstance}, Anchors: "CK_AWS_353/354, TV-0133/0078",
			Rationale: "Query-level insight is what diagnoses a slow database; its data holds query text.", Remediation: "Enable Performance Insights with performanceInsightsKmsKeyId.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "performanceInsightsEnabled") || str(r, "performanceInsightsKmsKeyId") == "", "Performance Insights is off or not encrypted with a customer key")
			}},
		{ID: "RDS-08", Title: "automatic minor version upgrades", Severity: Low, Types: []string{rdsInstance}, Anchors: "CK_AWS_226",
			Rationale: "Minor versions carry security fixes.", Remediation: "Leave autoMinorVersionUpgrade on.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(isFalse(r, "autoMinorVersionUpgrade"), "automatic minor upgrades are off")
			}},
		{ID: "RDS-09", Title: "tags copied to snapshots", Severity: Low, Types: []string{rdsInstance}, Anchors: "CK2_AWS_60",
			Rationale: "Untagged snapshots lose their owner and environment.", Remediation: "Set copyTagsToSnapshot.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "copyTagsToSnapshot"), "tags are not copied to snapshots")
			}},
		{ID: "RDS-10", Title: "logs exported to CloudWatch", Severity: Medium, Types: []string{rdsInstance}, Anchors: "CK_AWS_129",
			Rationale: "Database logs on the instance disappear with it and cannot be searched.", Remediation: "Set enabledCloudwatchLogsExports.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(len(list(r, "enabledCloudwatchLogsExports")) == 0, "no log is exported")
			}},
		{ID: "RDS-11", Title: "enhanced monitoring", Severity: Low, Production: true, Types: []string{rdsInstance}, Anchors: "CK_AWS_118",
			Rationale: "OS-level metrics explain what CloudWatch's hypervisor view cannot.", Remediation: "Set monitoringInterval to 1, 5, 10, 15, 30 or 60.",
			Check: func(_ *Context, r *graph.Resource) string {
				n, _ := number(r, "monitoringInterval")
				return when(!slices.Contains([]float64{1, 5, 10, 15, 30, 60}, n), fmt.Sprintf("monitoring interval %g is not one of 1, 5, 10, 15, 30, 60", n))
			}},
		{ID: "RDS-12", Title: "PostgreSQL forces TLS", Severity: High, Types: []string{rdsParams}, Anchors: "CK2_AWS_69",
			Rationale: "Without rds.force_ssl a client may connect in clear text.", Remediation: "Set rds.force_ssl = 1 in the parameter group.",
			Check: func(_ *Context, r *graph.Resource) string {
				if !strings.HasPrefix(str(r, "family"), "postgres") {
					return ""
				}
				for _, p := range list(r, "parameters") {
					m, _ := p.(map[string]any)
					if m["name"] == "rds.force_ssl" && m["value"] == "1" {
						return ""
					}
				}
				return "rds.force_ssl is not 1"
			}},

		{ID: "EKS-01", Title: "private endpoint on; public one off or allow-listed", Severity: High, Production: true, Types: []string{eksCluster}, Anchors: "CK_AWS_39, CIS 5.4.2 (Trivy has no private-endpoint check)",
			Rationale: "Nodes and in-VPC runners reach the API privately; the internet should not reach it at all.", Remediation: "Keep endpointPrivateAccess on; turn the public endpoint off or list the runners' CIDRs.",
			Check: func(_ *Context, r *graph.Resource) string {
				if !isTrue(r, "vpcConfig.endpointPrivateAccess") {
					return "the private endpoint is off"
				}
				if isTrue(r, "vpcConfig.endpointPublicAccess") && len(list(r, "vpcConfig.publicAccessCidrs")) == 0 {
					return "the public endpoint is on without an allow-list"
				}
				return ""
			}},
		{ID: "EKS-02", Title: "public endpoint never open to the internet", Severity: High, Types: []string{eksCluster}, Anchors: "CK_AWS_38, PC (Trivy AWS-0040/0041 refuse any public endpoint, allow-listed or not: waived per stack, ADR 0009)",
			Rationale: "An API server open to 0.0.0.0/0 is scanned and brute-forced all day.", Remediation: "List the deploy runners' CIDRs in cluster.publicAccessCidrs.",
			Check: func(_ *Context, r *graph.Resource) string {
				if !isTrue(r, "vpcConfig.endpointPublicAccess") {
					return ""
				}
				cidrs := strs(value(r, "vpcConfig.publicAccessCidrs"))
				if len(cidrs) == 0 || slices.Contains(cidrs, worldIPv4) || slices.Contains(cidrs, worldIPv6) {
					return "the public endpoint is open to the internet"
				}
				return ""
			}},
		{ID: "EKS-03", Title: "secrets encrypted with a KMS key", Severity: High, Types: []string{eksCluster}, Anchors: "CK_AWS_58, TV-0039, CIS 5.3.1",
			Rationale: "Envelope encryption keeps Kubernetes secrets unreadable in etcd backups.", Remediation: "Set encryptionConfig for \"secrets\" with a key ARN.",
			Check: func(_ *Context, r *graph.Resource) string {
				if !slices.Contains(strs(value(r, "encryptionConfig.resources")), "secrets") || str(r, "encryptionConfig.provider.keyArn") == "" {
					return "secrets are not envelope-encrypted"
				}
				return ""
			}},
		{ID: "EKS-04", Title: "control-plane logs (all five in production, audit elsewhere)", Severity: Medium, Types: []string{eksCluster}, Anchors: "CK_AWS_37, TV-0038, CIS 2.1.1",
			Rationale: "The audit log is the record of who did what to the cluster.", Remediation: "Enable api, audit, authenticator, controllerManager and scheduler.",
			Check: func(c *Context, r *graph.Resource) string {
				have := strs(value(r, "enabledClusterLogTypes"))
				want := []string{"audit"}
				if c.Production {
					want = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
				}
				for _, w := range want {
					if !slices.Contains(have, w) {
						return "control-plane log " + w + " is off"
					}
				}
				return ""
			}},
		{ID: "EKS-05", Title: "a supported Kubernetes version", Severity: Medium, Types: []string{eksCluster}, Anchors: "CK_AWS_339",
			Rationale: "Unsupported versions get no fixes and cost extended-support fees.", Remediation: "Set cluster.version to a supported version.",
			Check: func(_ *Context, r *graph.Resource) string {
				v := str(r, "version")
				return when(!slices.Contains(stacks.KubernetesVersions(), v), fmt.Sprintf("version %q is not one of %v", v, stacks.KubernetesVersions()))
			}},
		{ID: "EKS-06", Title: "no SSH key without source security groups", Severity: High, Types: []string{eksNodeGroup}, Anchors: "CK_AWS_100",
			Rationale: "An SSH key without source groups opens port 22 to the world.", Remediation: "Drop remoteAccess; use SSM Session Manager.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(str(r, "remoteAccess.ec2SshKey") != "" && len(list(r, "remoteAccess.sourceSecurityGroupIds")) == 0, "SSH is open to any source")
			}},
		{ID: "EKS-07", Title: "IMDSv2 required", Severity: High, Types: []string{launchTemplate}, Anchors: "CK_AWS_79, TV-0130",
			Rationale: "IMDSv1 hands out the node's credentials to any SSRF.", Remediation: "Set metadataOptions.httpTokens = required.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(str(r, "metadataOptions.httpTokens") != "required", "IMDSv2 is not required")
			}},
		{ID: "EKS-08", Title: "metadata hop limit 1", Severity: Medium, Types: []string{launchTemplate}, Anchors: "CK_AWS_341",
			Rationale: "With one hop, pods cannot reach the node's metadata and its role.", Remediation: "Set metadataOptions.httpPutResponseHopLimit = 1.",
			Check: func(_ *Context, r *graph.Resource) string {
				n, _ := number(r, "metadataOptions.httpPutResponseHopLimit")
				return when(n != 1, fmt.Sprintf("hop limit is %g", n))
			}},

		{ID: "EC-01", Title: "encrypted at rest with a KMS key", Severity: High, Types: []string{redisGroup}, Anchors: "CK_AWS_29/191, TV-0045",
			Rationale: "Snapshots and swapped pages hold the cached data.", Remediation: "Set atRestEncryptionEnabled and kmsKeyId.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "atRestEncryptionEnabled") || str(r, "kmsKeyId") == "", "at-rest encryption with a customer key is off")
			}},
		{ID: "EC-02", Title: "encrypted in transit", Severity: High, Types: []string{redisGroup}, Anchors: "CK_AWS_30, TV-0051",
			Rationale: "Redis carries sessions and personal data across the VPC.", Remediation: "Set transitEncryptionEnabled.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "transitEncryptionEnabled"), "in-transit encryption is off")
			}},
		{ID: "EC-03", Title: "AUTH token or user groups", Severity: High, Types: []string{redisGroup}, Anchors: "CK_AWS_31",
			Rationale: "Without authentication anything that reaches the port reads the cache.", Remediation: "Set authToken (secret config redisAuthToken) or userGroupIds.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(value(r, "authToken") == nil && len(list(r, "userGroupIds")) == 0, "no AUTH token and no user group")
			}},
		{ID: "EC-04", Title: "automatic failover", Severity: Medium, Production: true, Types: []string{redisGroup}, Anchors: "CK2_AWS_50",
			Rationale: "Without failover a primary's loss is an outage until someone acts.", Remediation: "Run two or more nodes (cache.nodes).",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "automaticFailoverEnabled"), "automatic failover is off")
			}},
		{ID: "EC-05", Title: "multi-AZ", Severity: Medium, Production: true, Types: []string{redisGroup}, Anchors: "ours",
			Rationale: "Replicas in the primary's zone fail with it.", Remediation: "Run two or more nodes (cache.nodes).",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "multiAzEnabled"), "multi-AZ is off")
			}},
		{ID: "EC-06", Title: "snapshots kept", Severity: Low, Production: true, Types: []string{redisGroup}, Anchors: "CK_AWS_134 (Trivy AWS-0050 reads cache clusters, not replication groups)",
			Rationale: "A snapshot is the only way back from a flushed or corrupted cache.", Remediation: "Set cache.snapshotRetentionDays above 0.",
			Check: func(_ *Context, r *graph.Resource) string {
				n, _ := number(r, "snapshotRetentionLimit")
				return when(n <= 0, "no snapshot is kept")
			}},
		{ID: "EC-07", Title: "automatic minor version upgrades", Severity: Low, Types: []string{redisGroup, cacheCluster}, Anchors: "CK_AWS_322",
			Rationale: "Minor versions carry security fixes.", Remediation: "Leave autoMinorVersionUpgrade on.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(isFalse(r, "autoMinorVersionUpgrade"), "automatic minor upgrades are off")
			}},
	}
}

// when returns msg if cond holds: a check's one-liner.
func when(cond bool, msg string) string {
	if cond {
		return msg
	}
	return ""
}
