package tfplan

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/codebuild"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Mapping is how one Pulumi AWS resource type is written as its Terraform
// twin: the Pulumi AWS provider is bridged from the Terraform one, so every
// type has one.
type Mapping struct {
	// Terraform is the Terraform resource type, "aws_db_instance".
	Terraform string
	// SDK is the resource's struct in the Pulumi AWS Go SDK. Its typed
	// outputs tell each property's shape: a map stays a map, an object is
	// a nested block (a list of one in Terraform's JSON), a list of
	// objects is a list of blocks.
	SDK pulumi.Resource
	// Renames are the Pulumi properties whose Terraform attribute is not
	// their snake_case: the bridge pluralises list blocks ("rules" is
	// Terraform's "rule"). They apply at any depth of the resource.
	Renames map[string]string
	// Lists are the list-shaped properties whose Terraform name is their
	// snake_case: looked at, and found not renamed. With Renames they
	// account for every list property a stack renders (a test holds them
	// to it), so no pluralised name is guessed.
	Lists []string
}

// Table is the mapping of every Pulumi AWS type the stacks create. A type
// missing here is an export error, so a new component cannot escape the
// scanners silently.
func Table() map[string]Mapping {
	return map[string]Mapping{
		"aws:backup/plan:Plan": {Terraform: "aws_backup_plan", SDK: &backup.Plan{},
			Renames: map[string]string{"rules": "rule", "copyActions": "copy_action"}},
		"aws:backup/restoreTestingPlan:RestoreTestingPlan": {Terraform: "aws_backup_restore_testing_plan", SDK: &backup.RestoreTestingPlan{},
			Lists: []string{"includeVaults", "recoveryPointTypes"}},
		"aws:backup/restoreTestingSelection:RestoreTestingSelection": {Terraform: "aws_backup_restore_testing_selection", SDK: &backup.RestoreTestingSelection{},
			Lists: []string{"protectedResourceArns"}},
		"aws:backup/selection:Selection":                           {Terraform: "aws_backup_selection", SDK: &backup.Selection{}, Lists: []string{"resources"}},
		"aws:backup/vault:Vault":                                   {Terraform: "aws_backup_vault", SDK: &backup.Vault{}},
		"aws:backup/vaultLockConfiguration:VaultLockConfiguration": {Terraform: "aws_backup_vault_lock_configuration", SDK: &backup.VaultLockConfiguration{}},
		"aws:cloudwatch/logGroup:LogGroup":                         {Terraform: "aws_cloudwatch_log_group", SDK: &cloudwatch.LogGroup{}},
		"aws:cloudwatch/metricAlarm:MetricAlarm": {Terraform: "aws_cloudwatch_metric_alarm", SDK: &cloudwatch.MetricAlarm{},
			Renames: map[string]string{"metricQueries": "metric_query"}, Lists: []string{"alarmActions", "okActions", "insufficientDataActions"}},
		"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {Terraform: "aws_default_security_group", SDK: &ec2.DefaultSecurityGroup{},
			Lists: []string{"ingress", "egress", "cidrBlocks", "securityGroups"}},
		"aws:ec2/eip:Eip":                         {Terraform: "aws_eip", SDK: &ec2.Eip{}},
		"aws:ec2/flowLog:FlowLog":                 {Terraform: "aws_flow_log", SDK: &ec2.FlowLog{}},
		"aws:ec2/internetGateway:InternetGateway": {Terraform: "aws_internet_gateway", SDK: &ec2.InternetGateway{}},
		"aws:ec2/launchTemplate:LaunchTemplate": {Terraform: "aws_launch_template", SDK: &ec2.LaunchTemplate{},
			Lists: []string{"blockDeviceMappings", "tagSpecifications", "vpcSecurityGroupIds"}},
		"aws:ec2/natGateway:NatGateway": {Terraform: "aws_nat_gateway", SDK: &ec2.NatGateway{}},
		"aws:ec2/routeTable:RouteTable": {Terraform: "aws_route_table", SDK: &ec2.RouteTable{},
			Renames: map[string]string{"routes": "route"}},
		"aws:ec2/routeTableAssociation:RouteTableAssociation": {Terraform: "aws_route_table_association", SDK: &ec2.RouteTableAssociation{}},
		"aws:ec2/securityGroup:SecurityGroup": {Terraform: "aws_security_group", SDK: &ec2.SecurityGroup{},
			Lists: []string{"ingress", "egress", "cidrBlocks", "ipv6CidrBlocks", "securityGroups", "prefixListIds"}},
		"aws:ec2/subnet:Subnet":                   {Terraform: "aws_subnet", SDK: &ec2.Subnet{}},
		"aws:ec2/vpc:Vpc":                         {Terraform: "aws_vpc", SDK: &ec2.Vpc{}},
		"aws:ec2/vpcEndpoint:VpcEndpoint":         {Terraform: "aws_vpc_endpoint", SDK: &ec2.VpcEndpoint{}, Lists: []string{"routeTableIds", "subnetIds", "securityGroupIds"}},
		"aws:ecr/lifecyclePolicy:LifecyclePolicy": {Terraform: "aws_ecr_lifecycle_policy", SDK: &ecr.LifecyclePolicy{}},
		"aws:ecr/repository:Repository": {Terraform: "aws_ecr_repository", SDK: &ecr.Repository{},
			Renames: map[string]string{"encryptionConfigurations": "encryption_configuration"}},
		"aws:ecr/repositoryPolicy:RepositoryPolicy":               {Terraform: "aws_ecr_repository_policy", SDK: &ecr.RepositoryPolicy{}},
		"aws:eks/accessEntry:AccessEntry":                         {Terraform: "aws_eks_access_entry", SDK: &eks.AccessEntry{}},
		"aws:eks/accessPolicyAssociation:AccessPolicyAssociation": {Terraform: "aws_eks_access_policy_association", SDK: &eks.AccessPolicyAssociation{}},
		"aws:codebuild/project:Project": {Terraform: "aws_codebuild_project", SDK: &codebuild.Project{},
			Lists: []string{"subnets", "securityGroupIds"}},
		"aws:codebuild/sourceCredential:SourceCredential": {Terraform: "aws_codebuild_source_credential", SDK: &codebuild.SourceCredential{}},
		"aws:codebuild/webhook:Webhook": {Terraform: "aws_codebuild_webhook", SDK: &codebuild.Webhook{},
			Renames: map[string]string{"filterGroups": "filter_group", "filters": "filter"}},
		"aws:eks/addon:Addon": {Terraform: "aws_eks_addon", SDK: &eks.Addon{}},
		"aws:eks/cluster:Cluster": {Terraform: "aws_eks_cluster", SDK: &eks.Cluster{},
			Lists: []string{"enabledClusterLogTypes", "resources", "publicAccessCidrs", "subnetIds", "securityGroupIds"}},
		"aws:eks/nodeGroup:NodeGroup": {Terraform: "aws_eks_node_group", SDK: &eks.NodeGroup{},
			Renames: map[string]string{"taints": "taint"}, Lists: []string{"instanceTypes", "subnetIds"}},
		"aws:elasticache/replicationGroup:ReplicationGroup": {Terraform: "aws_elasticache_replication_group", SDK: &elasticache.ReplicationGroup{},
			Renames: map[string]string{"logDeliveryConfigurations": "log_delivery_configuration"}, Lists: []string{"securityGroupIds"}},
		"aws:elasticache/subnetGroup:SubnetGroup": {Terraform: "aws_elasticache_subnet_group", SDK: &elasticache.SubnetGroup{}, Lists: []string{"subnetIds"}},
		"aws:iam/openIdConnectProvider:OpenIdConnectProvider": {Terraform: "aws_iam_openid_connect_provider", SDK: &iam.OpenIdConnectProvider{},
			Renames: map[string]string{"clientIdLists": "client_id_list", "thumbprintLists": "thumbprint_list"}},
		"aws:iam/role:Role": {Terraform: "aws_iam_role", SDK: &iam.Role{},
			Renames: map[string]string{"inlinePolicies": "inline_policy"}, Lists: []string{"managedPolicyArns"}},
		"aws:iam/rolePolicy:RolePolicy":                     {Terraform: "aws_iam_role_policy", SDK: &iam.RolePolicy{}},
		"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {Terraform: "aws_iam_role_policy_attachment", SDK: &iam.RolePolicyAttachment{}},
		"aws:iam/policy:Policy":                             {Terraform: "aws_iam_policy", SDK: &iam.Policy{}},
		"aws:kms/alias:Alias":                               {Terraform: "aws_kms_alias", SDK: &kms.Alias{}},
		"aws:kms/key:Key":                                   {Terraform: "aws_kms_key", SDK: &kms.Key{}},
		"aws:rds/instance:Instance": {Terraform: "aws_db_instance", SDK: &rds.Instance{},
			Lists: []string{"enabledCloudwatchLogsExports", "vpcSecurityGroupIds"}},
		"aws:rds/parameterGroup:ParameterGroup": {Terraform: "aws_db_parameter_group", SDK: &rds.ParameterGroup{},
			Renames: map[string]string{"parameters": "parameter"}},
		"aws:rds/subnetGroup:SubnetGroup": {Terraform: "aws_db_subnet_group", SDK: &rds.SubnetGroup{}, Lists: []string{"subnetIds"}},
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {Terraform: "aws_s3_bucket_lifecycle_configuration", SDK: &s3.BucketLifecycleConfigurationV2{},
			Renames: map[string]string{"rules": "rule", "transitions": "transition", "noncurrentVersionTransitions": "noncurrent_version_transition"}},
		"aws:s3/bucketLoggingV2:BucketLoggingV2":                 {Terraform: "aws_s3_bucket_logging", SDK: &s3.BucketLoggingV2{}},
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls": {Terraform: "aws_s3_bucket_ownership_controls", SDK: &s3.BucketOwnershipControls{}},
		"aws:s3/bucketPolicy:BucketPolicy":                       {Terraform: "aws_s3_bucket_policy", SDK: &s3.BucketPolicy{}},
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {Terraform: "aws_s3_bucket_public_access_block", SDK: &s3.BucketPublicAccessBlock{}},
		"aws:s3/bucketReplicationConfig:BucketReplicationConfig": {Terraform: "aws_s3_bucket_replication_configuration", SDK: &s3.BucketReplicationConfig{},
			Renames: map[string]string{"rules": "rule"}},
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {Terraform: "aws_s3_bucket_server_side_encryption_configuration", SDK: &s3.BucketServerSideEncryptionConfigurationV2{},
			Renames: map[string]string{"rules": "rule"}},
		"aws:s3/bucketV2:BucketV2":                                  {Terraform: "aws_s3_bucket", SDK: &s3.BucketV2{}},
		"aws:s3/bucketVersioningV2:BucketVersioningV2":              {Terraform: "aws_s3_bucket_versioning", SDK: &s3.BucketVersioningV2{}},
		"aws:secretsmanager/secret:Secret":                          {Terraform: "aws_secretsmanager_secret", SDK: &secretsmanager.Secret{}, Renames: map[string]string{"replicas": "replica"}},
		"aws:secretsmanager/secretVersion:SecretVersion":            {Terraform: "aws_secretsmanager_secret_version", SDK: &secretsmanager.SecretVersion{}},
		"aws:sns/topic:Topic":                                       {Terraform: "aws_sns_topic", SDK: &sns.Topic{}},
		"aws:sqs/queue:Queue":                                       {Terraform: "aws_sqs_queue", SDK: &sqs.Queue{}},
		"aws:sqs/queuePolicy:QueuePolicy":                           {Terraform: "aws_sqs_queue_policy", SDK: &sqs.QueuePolicy{}},
		"aws:sqs/redriveAllowPolicy:RedriveAllowPolicy":             {Terraform: "aws_sqs_queue_redrive_allow_policy", SDK: &sqs.RedriveAllowPolicy{}},
		"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {Terraform: "aws_vpc_security_group_ingress_rule", SDK: &vpc.SecurityGroupIngressRule{}},
		"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   {Terraform: "aws_vpc_security_group_egress_rule", SDK: &vpc.SecurityGroupEgressRule{}},
	}
}

// attribute is the Terraform name of a Pulumi property of the mapping.
func (m Mapping) attribute(property string) string {
	if tf, ok := m.Renames[property]; ok {
		return tf
	}
	return snake(property)
}

// snake turns a Pulumi property name into Terraform's: "kmsKeyId" →
// "kms_key_id", "cidrIpv4" → "cidr_ipv4" (digits stay with their word).
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// kind is the shape of a property in the provider's schema.
type kind int

const (
	scalar  kind = iota // string, number, bool, or a list of them
	mapKind             // a map attribute: tags, labels, dimensions
	block               // an object: one nested block
	blocks              // a list of objects: nested blocks
)

// shape is a property's kind and, for blocks, its fields.
type shape struct {
	kind   kind
	fields map[string]*shape
}

// schemaOf reads a resource's property shapes from its SDK struct: each
// field tagged `pulumi:"name"` is an output whose element type is the
// property's plain Go type.
func schemaOf(res pulumi.Resource) (map[string]*shape, error) {
	t := reflect.TypeOf(res).Elem()
	fields := map[string]*shape{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("pulumi")
		if name == "" {
			continue
		}
		out, ok := reflect.Zero(f.Type).Interface().(interface{ ElementType() reflect.Type })
		if !ok {
			return nil, fmt.Errorf("%s.%s: not a typed output", t.Name(), f.Name)
		}
		fields[name] = shapeOf(out.ElementType())
	}
	return fields, nil
}

func shapeOf(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map:
		return &shape{kind: mapKind}
	case reflect.Struct:
		return &shape{kind: block, fields: structFields(t)}
	case reflect.Slice, reflect.Array:
		e := t.Elem()
		for e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		if e.Kind() == reflect.Struct {
			return &shape{kind: blocks, fields: structFields(e)}
		}
		return &shape{kind: scalar}
	}
	return &shape{kind: scalar}
}

func structFields(t reflect.Type) map[string]*shape {
	fields := map[string]*shape{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name := f.Tag.Get("pulumi"); name != "" {
			fields[name] = shapeOf(f.Type)
		}
	}
	return fields
}

// Properties are the names of every property of a mapping's SDK resource,
// at any depth: what its renames and lists may name.
func Properties(m Mapping) (map[string]bool, error) {
	fields, err := schemaOf(m.SDK)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	var walk func(map[string]*shape)
	walk = func(fs map[string]*shape) {
		for n, s := range fs {
			names[n] = true
			walk(s.fields)
		}
	}
	walk(fields)
	return names, nil
}
