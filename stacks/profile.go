// Package stacks holds the environment profile: the one typed description of
// a stack's platform, its per-environment defaults, and its validation.
//
// Only this package reads Pulumi configuration. Components take typed
// arguments built from a Profile, so environments differ by data and not by
// `if env == "production"` scattered through the code.
package stacks

// Project is the Pulumi project name; it is also the namespace of every
// project configuration key ("personalization-platform:network").
const Project = "personalization-platform"

// Environment is the tier a stack belongs to. It picks the defaults.
type Environment string

// The environment tiers, cheapest first.
const (
	Dev        Environment = "dev"
	Staging    Environment = "staging"
	Production Environment = "production"
)

// Environments lists every tier, in order.
func Environments() []Environment { return []Environment{Dev, Staging, Production} }

// Profile is the whole platform of one stack: defaulted, then validated.
type Profile struct {
	// Stack is the Pulumi stack name ("dev", "production", "dev-alice").
	Stack string `json:"-"`
	// Environment is the tier; it defaults to the stack name.
	Environment Environment `json:"environment"`
	// Region is the AWS region, from the provider's `aws:region` key.
	Region string `json:"region"`

	// Protect marks the stateful resources (VPC, cluster, database, cache,
	// backup bucket, KMS keys) `protect`ed, so that no `pulumi up` or
	// `pulumi destroy` can delete them without an explicit unprotect. It is
	// the tier's to decide (production), not a stack's.
	Protect bool `json:"-"`

	Network  Network  `json:"network"`
	Cluster  Cluster  `json:"cluster"`
	Database Database `json:"database"`
	Cache    Cache    `json:"cache"`
	Backup   Backup   `json:"backup"`
	// Namespace is the application namespace; Workloads the services in
	// it, by name.
	Namespace  Namespace          `json:"namespace"`
	Workloads  map[string]Service `json:"workloads"`
	Monitoring Monitoring         `json:"monitoring"`
	// Logging and Tracing are the logs and traces beside the metrics.
	Logging Logging `json:"logging"`
	Tracing Tracing `json:"tracing"`
	// Registry and Queue: the services' images and asynchronous work.
	Registry Registry `json:"registry"`
	Queue    Queue    `json:"queue"`
	// Policy holds the stack's waivers of policy rules.
	Policy Policy `json:"policy"`
	// DisasterRecovery is AWS Backup for the database.
	DisasterRecovery DisasterRecovery `json:"disasterRecovery"`

	// Secrets come from secret stack config, never from the profile's
	// objects; they never appear in the profile's JSON.
	Secrets Secrets `json:"-"`
}

// Secrets are the secret configuration values of a stack, each set with
// `pulumi config set --secret`. The program hands them on only as secret
// outputs.
type Secrets struct {
	// RedisAuthToken is the cache's AUTH token.
	RedisAuthToken string
	// GrafanaAdminPassword is Grafana's admin password.
	GrafanaAdminPassword string
	// PagingWebhook and ChatWebhook are Alertmanager's receivers for
	// critical and warning alerts; optional: without them alerts go to a
	// null receiver, and the stack's outputs say so.
	PagingWebhook, ChatWebhook string
}

// SecretKeys are the secret configuration keys, unqualified, each required
// in every stack.
func SecretKeys() []string { return []string{"grafanaAdminPassword", "redisAuthToken"} }

// OptionalSecretKeys are secret configuration keys a stack may leave unset.
func OptionalSecretKeys() []string {
	return []string{"alertmanagerChatWebhook", "alertmanagerPagingWebhook"}
}

// NATMode says how many NAT gateways the network has.
type NATMode string

// The NAT gateway layouts.
const (
	// NATSingle is one NAT gateway in the first zone: cheap, but a zone
	// outage cuts every private subnet's egress.
	NATSingle NATMode = "single"
	// NATPerAZ is one NAT gateway per zone, each zone's private subnet routed
	// through its own: no cross-zone dependency.
	NATPerAZ NATMode = "perAz"
)

// NATModes lists the allowed NAT layouts.
func NATModes() []NATMode { return []NATMode{NATSingle, NATPerAZ} }

// Network is the VPC's shape. Subnet CIDRs are computed from CIDR, never
// configured one by one.
type Network struct {
	// CIDR is the VPC's IPv4 range, a private (RFC 1918) block from /16 to /20.
	CIDR string `json:"cidr"`
	// AvailabilityZones is how many zones the subnets span (2 to 6).
	AvailabilityZones int `json:"availabilityZones"`
	// NATGateways is "single" or "perAz".
	NATGateways NATMode `json:"natGateways"`
	// FlowLogRetentionDays is how long VPC flow logs are kept; one of the
	// values CloudWatch Logs accepts.
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`
}

// Tags are the tags every AWS resource of the stack carries, through the AWS
// provider's default tags.
func (p *Profile) Tags() map[string]string {
	return map[string]string{
		"project":     Project,
		"environment": string(p.Environment),
		"managed-by":  "pulumi",
	}
}

// Cluster is the EKS cluster's shape.
type Cluster struct {
	// Version is the Kubernetes minor version ("1.34").
	Version string `json:"version"`
	// EndpointPublicAccess opens the API server's public endpoint, and then
	// only to PublicAccessCIDRs; empty, those are the deploy runners' egress
	// addresses, found by the tag the bootstrap project gives them. Off, the
	// API is reachable only from inside the VPC.
	EndpointPublicAccess bool     `json:"endpointPublicAccess"`
	PublicAccessCIDRs    []string `json:"publicAccessCidrs"`
	// AdminPrincipals are IAM role or user ARNs given cluster-admin through
	// EKS access entries (never the aws-auth ConfigMap).
	AdminPrincipals []string `json:"adminPrincipals"`
	// LogRetentionDays is the control-plane log group's retention.
	LogRetentionDays int `json:"logRetentionDays"`
	// NodeGroups are the managed node groups.
	NodeGroups []NodeGroup `json:"nodeGroups"`
}

// CapacityType is how a node group's instances are bought.
type CapacityType string

// The EC2 capacity types of a managed node group.
const (
	OnDemand CapacityType = "ON_DEMAND"
	Spot     CapacityType = "SPOT"
)

// CapacityTypes lists the allowed capacity types.
func CapacityTypes() []CapacityType { return []CapacityType{OnDemand, Spot} }

// NodeGroup is one EKS managed node group, spread over every private subnet.
type NodeGroup struct {
	Name          string            `json:"name"`
	InstanceTypes []string          `json:"instanceTypes"`
	CapacityType  CapacityType      `json:"capacityType"`
	MinSize       int               `json:"minSize"`
	DesiredSize   int               `json:"desiredSize"`
	MaxSize       int               `json:"maxSize"`
	DiskSizeGiB   int               `json:"diskSizeGiB"`
	Labels        map[string]string `json:"labels"`
	Taints        []Taint           `json:"taints"`
}

// Taint is a Kubernetes taint on every node of a group.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Effect string `json:"effect"`
}

// TaintEffects are the effects EKS accepts for node group taints.
func TaintEffects() []string { return []string{"NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"} }

// KubernetesVersions are the EKS versions the platform deploys: those in
// EKS standard support when this list was last reviewed. Adding one is a
// deliberate change, tested like any other.
func KubernetesVersions() []string { return []string{"1.33", "1.34", "1.35"} }

// Database is the RDS PostgreSQL instance's shape.
type Database struct {
	// EngineVersion is the PostgreSQL major version ("15"); minor versions
	// follow AWS's automatic minor upgrades.
	EngineVersion string `json:"engineVersion"`
	// InstanceClass is the DB instance class ("db.r6g.large").
	InstanceClass string `json:"instanceClass"`
	// AllocatedStorageGiB is the initial gp3 storage; storage autoscaling
	// grows it up to MaxAllocatedStorageGiB.
	AllocatedStorageGiB    int `json:"allocatedStorageGiB"`
	MaxAllocatedStorageGiB int `json:"maxAllocatedStorageGiB"`
	// MultiAZ keeps a synchronous standby in another zone.
	MultiAZ bool `json:"multiAz"`
	// BackupRetentionDays keeps automated backups and point-in-time
	// recovery this long (1 to 35 days).
	BackupRetentionDays int `json:"backupRetentionDays"`
	// DeletionProtection refuses deletion of the instance; the tier that
	// sets it also keeps a final snapshot.
	DeletionProtection bool `json:"deletionProtection"`
	// SlowStatementMs logs statements slower than this (log_min_duration_statement).
	SlowStatementMs int `json:"slowStatementMs"`
	// LogRetentionDays is the retention of the exported PostgreSQL logs.
	LogRetentionDays int `json:"logRetentionDays"`
}

// Cache is the ElastiCache Redis replication group's shape.
type Cache struct {
	// EngineVersion is the Redis engine version ("7.1").
	EngineVersion string `json:"engineVersion"`
	// NodeType is the cache node type ("cache.r7g.large").
	NodeType string `json:"nodeType"`
	// Nodes is the number of nodes: a primary and Nodes-1 replicas.
	// Two or more turn on automatic failover and multi-AZ.
	Nodes int `json:"nodes"`
	// SnapshotRetentionDays keeps daily snapshots (0 turns them off).
	SnapshotRetentionDays int `json:"snapshotRetentionDays"`
	// LogRetentionDays is the slow log's retention.
	LogRetentionDays int `json:"logRetentionDays"`
}

// Backup is the nightly database dump's shape and where it is kept.
type Backup struct {
	// Schedule is the dump's cron schedule, in UTC.
	Schedule string `json:"schedule"`
	// RetentionDays is how long a dump is kept; the bucket's lifecycle
	// expires it, not the job.
	RetentionDays int `json:"retentionDays"`
	// NoncurrentVersionDays keeps overwritten or deleted versions this long.
	NoncurrentVersionDays int `json:"noncurrentVersionDays"`
	// ReplicaRegion, when set, replicates every dump to a bucket there.
	ReplicaRegion string `json:"replicaRegion"`
	// ForceDestroy lets `pulumi destroy` empty the bucket; never in
	// production.
	ForceDestroy bool `json:"forceDestroy"`
	// AccessLogging records every request to the dump bucket in an
	// access-log bucket.
	AccessLogging bool `json:"accessLogging"`
}

// PostgresVersions are the PostgreSQL major versions RDS offers that the
// platform supports.
func PostgresVersions() []string { return []string{"14", "15", "16", "17"} }

// RedisVersions are the Redis engine versions ElastiCache offers that the
// platform supports.
func RedisVersions() []string { return []string{"6.2", "7.0", "7.1"} }

// Policy is the stack's stance on the policy rules.
type Policy struct {
	// Waivers accept a failing rule on one resource, each for a reason.
	Waivers []Waiver `json:"waivers"`
}

// Waiver accepts a failing policy rule on one resource.
type Waiver struct {
	Rule   string `json:"rule"`
	URN    string `json:"urn"`
	Reason string `json:"reason"`
}

// DisasterRecovery is AWS Backup for the database: continuous backup for
// point-in-time recovery (RPO 1 h), daily recovery points, a copy of each in
// another region.
type DisasterRecovery struct {
	AWSBackup bool `json:"awsBackup"`
	// ContinuousRetentionDays keeps point-in-time recovery (1 to 35 days).
	ContinuousRetentionDays int `json:"continuousRetentionDays"`
	// DailyRetentionDays keeps daily recovery points and their copies.
	DailyRetentionDays int `json:"dailyRetentionDays"`
	// Schedule is the daily rule, an AWS Backup cron expression (UTC).
	Schedule string `json:"schedule"`
	// CopyRegion receives copies; empty means backup.replicaRegion.
	CopyRegion string `json:"copyRegion"`
	// Lock puts the vaults under a governance-mode vault lock.
	Lock bool `json:"lock"`
	// RestoreTestSchedule runs AWS Backup restore testing: the latest
	// daily recovery point restored into a throwaway instance, an AWS
	// Backup cron expression (UTC). Empty turns restore testing off.
	RestoreTestSchedule string `json:"restoreTestSchedule"`
}

// DeployRoleName is the IAM role the stack's deploy workflow assumes, made
// by the bootstrap project: it pushes the stack's images.
func DeployRoleName(env Environment) string { return Project + "-deploy-" + string(env) }
