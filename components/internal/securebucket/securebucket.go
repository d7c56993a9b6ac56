// Package securebucket makes an S3 bucket with every control the policy
// rules ask of one: versioning, server-side encryption (SSE-KMS with a
// bucket key, or S3-managed where a service allows nothing else), all four
// public access blocks, owner-enforced objects, a policy refusing plain
// HTTP, and a lifecycle. The backup bucket, its replica and log buckets,
// and the bootstrap's state bucket are all made here.
package securebucket

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/policydoc"
)

// Args describe one bucket. Its children are named Name-versioning,
// Name-encryption, Name-public-access, Name-ownership, Name-tls-only and
// Name-lifecycle.
type Args struct {
	// Name is the bucket's resource name and its children's prefix.
	Name string
	// KMSKeyARN encrypts the objects; nil means S3-managed keys.
	KMSKeyARN    pulumi.StringInput
	ForceDestroy bool
	Protect      bool
	// Grants are further Allow statements of the bucket policy.
	Grants func(bucketARN string) []policydoc.Statement
	// LifecycleID names the lifecycle rule; ExpireDays expires current
	// objects (0: never); NoncurrentDays expires old versions.
	LifecycleID                string
	ExpireDays, NoncurrentDays int
}

// Bucket is the bucket and its versioning, which replication must wait for.
type Bucket struct {
	Bucket     *s3.BucketV2
	Versioning *s3.BucketVersioningV2
}

// New makes the bucket and its controls; opts carry the parent and the
// provider.
func New(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*Bucket, error) {
	child := func(suffix string) string { return args.Name + "-" + suffix }
	b, err := s3.NewBucketV2(ctx, args.Name, &s3.BucketV2Args{
		ForceDestroy: pulumi.Bool(args.ForceDestroy),
	}, append(opts, pulumi.Protect(args.Protect))...)
	if err != nil {
		return nil, fmt.Errorf("bucket: %w", err)
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, child("versioning"), &s3.BucketVersioningV2Args{
		Bucket:                  b.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("versioning: %w", err)
	}
	sse := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	if args.KMSKeyARN != nil {
		sse = &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm:   pulumi.String("aws:kms"),
			KmsMasterKeyId: args.KMSKeyARN,
		}
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, child("encryption"), &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: sse,
				// One data key per bucket, not per object: far fewer KMS
				// calls, the same protection.
				BucketKeyEnabled: pulumi.Bool(args.KMSKeyARN != nil),
			},
		},
	}, opts...); err != nil {
		return nil, fmt.Errorf("encryption: %w", err)
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, child("public-access"), &s3.BucketPublicAccessBlockArgs{
		Bucket:                b.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return nil, fmt.Errorf("public access block: %w", err)
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, child("ownership"), &s3.BucketOwnershipControlsArgs{
		Bucket: b.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...); err != nil {
		return nil, fmt.Errorf("ownership controls: %w", err)
	}
	if _, err := s3.NewBucketPolicy(ctx, child("tls-only"), &s3.BucketPolicyArgs{
		Bucket: b.ID(),
		Policy: b.Arn.ApplyT(func(arn string) string {
			doc := TLSOnlyPolicy(arn)
			if args.Grants != nil {
				doc.Statement = append(doc.Statement, args.Grants(arn)...)
			}
			return doc.JSON()
		}).(pulumi.StringOutput),
	}, opts...); err != nil {
		return nil, fmt.Errorf("bucket policy: %w", err)
	}
	rule := s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:                             pulumi.String(args.LifecycleID),
		Status:                         pulumi.String("Enabled"),
		Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		NoncurrentVersionExpiration:    &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(args.NoncurrentDays)},
		AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(1)},
	}
	if args.ExpireDays > 0 {
		rule.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.ExpireDays)}
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, child("lifecycle"), &s3.BucketLifecycleConfigurationV2Args{
		Bucket: b.ID(),
		Rules:  s3.BucketLifecycleConfigurationV2RuleArray{rule},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{versioning}))...); err != nil {
		return nil, fmt.Errorf("lifecycle: %w", err)
	}
	return &Bucket{Bucket: b, Versioning: versioning}, nil
}

// TLSOnlyPolicy denies every request to the bucket that is not over TLS
// (policy S3-04).
func TLSOnlyPolicy(bucketARN string) policydoc.Document {
	return policydoc.New(policydoc.Statement{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]any{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	})
}
