// Package backup is the S3 bucket the nightly database dump is written to:
// versioned, encrypted with its own key, closed to the public and to plain
// HTTP, dumps expired by lifecycle after the retention, and in production
// replicated to a bucket in another region with the same controls.
package backup

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
	"github.com/personalization/platform/components/internal/securebucket"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:backup:BackupBucket"

// Args configure the bucket.
type Args struct {
	// Name goes into descriptions and key aliases.
	Name string
	// RetentionDays expires dumps this many days after they are written.
	RetentionDays int
	// NoncurrentVersionDays expires overwritten and deleted versions.
	NoncurrentVersionDays int
	// ForceDestroy lets `pulumi destroy` delete a non-empty bucket.
	ForceDestroy bool
	// Protect protects the bucket, the replica and their keys.
	Protect bool
	// ReplicaProvider, when set, is an AWS provider for the disaster
	// recovery region: every dump is replicated to a bucket there.
	ReplicaProvider pulumi.ProviderResource
	// AccessLogging records every request to the dump bucket in a log
	// bucket of its own (policy S3-06).
	AccessLogging bool
}

// BackupBucket is the dump bucket and, in production, its replica.
type BackupBucket struct {
	pulumi.ResourceState

	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	BucketARN  pulumi.StringOutput `pulumi:"bucketArn"`
	KMSKeyARN  pulumi.StringOutput `pulumi:"kmsKeyArn"`
	// ReplicaBucketARN is empty without a replica.
	ReplicaBucketARN pulumi.StringOutput `pulumi:"replicaBucketArn"`
}

// New builds the bucket.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*BackupBucket, error) {
	if args == nil || args.Name == "" || args.RetentionDays < 1 || args.NoncurrentVersionDays < 1 {
		return nil, errors.New("backup: args with a name and positive retentions are required")
	}
	if args.Protect && args.ForceDestroy {
		return nil, errors.New("backup: a protected bucket refuses forceDestroy")
	}
	bb := &BackupBucket{}
	if err := ctx.RegisterComponentResource(TypeToken, name, bb, opts...); err != nil {
		return nil, fmt.Errorf("backup: register: %w", err)
	}
	primary, err := secureBucket(ctx, name, args, bucketSpec{}, pulumi.Parent(bb))
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", name, err)
	}
	if args.AccessLogging {
		if err := accessLogging(ctx, name, args, primary, pulumi.Parent(bb)); err != nil {
			return nil, fmt.Errorf("backup %s access logs: %w", name, err)
		}
	}
	bb.BucketName = primary.bucket.Bucket
	bb.BucketARN = primary.bucket.Arn
	bb.KMSKeyARN = primary.key.Arn
	bb.ReplicaBucketARN = pulumi.String("").ToStringOutput()
	if args.ReplicaProvider != nil {
		replica, err := secureBucket(ctx, name, args, bucketSpec{role: "replica"}, pulumi.Parent(bb), pulumi.Provider(args.ReplicaProvider))
		if err != nil {
			return nil, fmt.Errorf("backup %s replica: %w", name, err)
		}
		if err := replicate(ctx, name, primary, replica, pulumi.Parent(bb)); err != nil {
			return nil, fmt.Errorf("backup %s replication: %w", name, err)
		}
		bb.ReplicaBucketARN = replica.bucket.Arn
	}
	if err := ctx.RegisterResourceOutputs(bb, pulumi.Map{
		"bucketName":       bb.BucketName,
		"bucketArn":        bb.BucketARN,
		"kmsKeyArn":        bb.KMSKeyARN,
		"replicaBucketArn": bb.ReplicaBucketARN,
	}); err != nil {
		return nil, fmt.Errorf("backup: register outputs: %w", err)
	}
	return bb, nil
}

// bucket is a bucket with its key and its versioning, which replication
// must wait for.
type bucket struct {
	bucket     *s3.BucketV2
	key        *kms.Key
	versioning *s3.BucketVersioningV2
}

// bucketSpec says which bucket of the component secureBucket makes.
type bucketSpec struct {
	// role is "" for the dump bucket, "replica" or "access-logs".
	role string
	// s3Managed encrypts with S3-managed keys instead of a KMS key: S3
	// server access logging can deliver only to such a bucket.
	s3Managed bool
	// grants are further Allow statements of the bucket policy.
	grants func(bucketARN string) []policydoc.Statement
	// expireDays overrides the dump retention.
	expireDays int
}

// secureBucket makes a bucket with every control: key, versioning, SSE-KMS
// with a bucket key, public access blocked, owner-enforced objects, a
// TLS-only policy and the lifecycle.
func secureBucket(ctx *pulumi.Context, name string, args *Args, spec bucketSpec, opts ...pulumi.ResourceOption) (*bucket, error) {
	prefix := name
	alias := args.Name + "-backups"
	if spec.role != "" {
		prefix = name + "-" + spec.role
		alias = args.Name + "-backups-" + spec.role
	}
	child := func(suffix string) string { return prefix + "-" + suffix }

	var key *kms.Key
	var keyARN pulumi.StringInput
	if !spec.s3Managed {
		var err error
		key, err = keys.New(ctx, child("key"), keys.Args{
			Alias:       alias,
			Description: "Database dumps of " + args.Name + " in S3",
			Protect:     args.Protect,
		}, opts...)
		if err != nil {
			return nil, err
		}
		keyARN = key.Arn
	}
	expireDays := args.RetentionDays
	if spec.expireDays > 0 {
		expireDays = spec.expireDays
	}
	b, err := securebucket.New(ctx, securebucket.Args{
		Name: prefix, KMSKeyARN: keyARN, ForceDestroy: args.ForceDestroy, Protect: args.Protect,
		Grants: spec.grants,
		// The service's original job ran `find -mtime +30` on the local
		// copies only; here S3 itself expires the dumps.
		LifecycleID: "expire-dumps", ExpireDays: expireDays, NoncurrentDays: args.NoncurrentVersionDays,
	}, opts...)
	if err != nil {
		return nil, err
	}
	return &bucket{bucket: b.Bucket, key: key, versioning: b.Versioning}, nil
}

// AccessLogRetentionDays is how long S3 access logs are kept: a year, the
// usual audit horizon.
const AccessLogRetentionDays = 365

// accessLogging sends the dump bucket's server access logs to a bucket of
// their own, with the same controls but S3-managed encryption, which is
// what S3 log delivery supports.
func accessLogging(ctx *pulumi.Context, name string, args *Args, primary *bucket, opts ...pulumi.ResourceOption) error {
	logs, err := secureBucket(ctx, name, args, bucketSpec{
		role: "access-logs", s3Managed: true, expireDays: AccessLogRetentionDays,
		grants: func(arn string) []policydoc.Statement {
			return []policydoc.Statement{{
				Sid: "S3ServerAccessLogs", Effect: "Allow",
				Principal: map[string]any{"Service": "logging.s3.amazonaws.com"},
				Action:    []string{"s3:PutObject"},
				Resource:  []string{arn + "/*"},
			}}
		},
	}, opts...)
	if err != nil {
		return err
	}
	_, err = s3.NewBucketLoggingV2(ctx, name+"-access-logging", &s3.BucketLoggingV2Args{
		Bucket:       primary.bucket.ID(),
		TargetBucket: logs.bucket.ID(),
		TargetPrefix: pulumi.String("dumps/"),
	}, opts...)
	return err
}

// replicate copies every object of primary, encrypted with the replica's
// key, to replica.
func replicate(ctx *pulumi.Context, name string, primary, replica *bucket, opts ...pulumi.ResourceOption) error {
	role, err := iam.NewRole(ctx, name+"-replication", &iam.RoleArgs{
		Description:      pulumi.String("S3 replication of the database dumps to the disaster recovery region"),
		AssumeRolePolicy: pulumi.String(policydoc.ServiceTrust("s3.amazonaws.com", "").JSON()),
	}, opts...)
	if err != nil {
		return fmt.Errorf("role: %w", err)
	}
	policy := pulumi.All(primary.bucket.Arn, replica.bucket.Arn, primary.key.Arn, replica.key.Arn).ApplyT(func(v []any) string {
		src, dst, srcKey, dstKey := v[0].(string), v[1].(string), v[2].(string), v[3].(string)
		return policydoc.New(
			policydoc.Statement{Effect: "Allow", Action: []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, Resource: []string{src}},
			policydoc.Statement{Effect: "Allow", Action: []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"}, Resource: []string{src + "/*"}},
			policydoc.Statement{Effect: "Allow", Action: []string{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"}, Resource: []string{dst + "/*"}},
			policydoc.Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{srcKey}},
			policydoc.Statement{Effect: "Allow", Action: []string{"kms:Encrypt"}, Resource: []string{dstKey}},
		).JSON()
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-replication", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, opts...); err != nil {
		return fmt.Errorf("role policy: %w", err)
	}
	_, err = s3.NewBucketReplicationConfig(ctx, name+"-replication", &s3.BucketReplicationConfigArgs{
		Bucket: primary.bucket.ID(),
		Role:   role.Arn,
		Rules: s3.BucketReplicationConfigRuleArray{
			s3.BucketReplicationConfigRuleArgs{
				Id:                      pulumi.String("all-dumps"),
				Status:                  pulumi.String("Enabled"),
				Filter:                  &s3.BucketReplicationConfigRuleFilterArgs{Prefix: pulumi.String("")},
				DeleteMarkerReplication: &s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs{Status: pulumi.String("Disabled")},
				SourceSelectionCriteria: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs{
					SseKmsEncryptedObjects: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs{Status: pulumi.String("Enabled")},
				},
				Destination: &s3.BucketReplicationConfigRuleDestinationArgs{
					Bucket:                  replica.bucket.Arn,
					StorageClass:            pulumi.String("STANDARD_IA"),
					EncryptionConfiguration: &s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs{ReplicaKmsKeyId: replica.key.Arn},
				},
			},
		},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{primary.versioning, replica.versioning}))...)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}
