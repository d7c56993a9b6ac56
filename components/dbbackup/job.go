// Package dbbackup is the nightly database dump: a CronJob whose init
// container runs pg_dump of the matching PostgreSQL major version into an
// emptyDir, and whose container uploads the dump to the backup bucket under
// the environment's prefix, authorised by an IRSA role that may only put
// objects there. Retention is the bucket's lifecycle, not the job's.
package dbbackup

import (
	"errors"
	"fmt"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/cluster"
	"github.com/personalization/platform/components/internal/policydoc"
	"github.com/personalization/platform/components/workload"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:backup:DumpJob"

// Name is the CronJob's (and its service account's) name.
const Name = "database-backup"

// DumpFile is where the init container leaves the dump for the uploader.
const DumpFile = "/backup/personalization.dump"

// DumpScript runs in the PostgreSQL image: a custom-format dump (compressed,
// restorable table by table) to $DUMP_FILE, then a listing of it, which
// fails on a truncated or corrupt file before anything is uploaded. Paths
// and targets come from the environment the pod spec sets, so the restore
// drill runs this very text against its own servers.
const DumpScript = `set -eu
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$DUMP_FILE"
pg_restore --list "$DUMP_FILE" > /dev/null
echo "dump: $(wc -c < "$DUMP_FILE") bytes"
`

// UploadScript runs in the AWS CLI image: the dump goes to
// s3://$BACKUP_BUCKET/$S3_PREFIX/<UTC timestamp>.dump, encrypted with the
// bucket's key.
const UploadScript = `set -eu
key="${S3_PREFIX}/$(date -u +%Y%m%dT%H%M%SZ).dump"
aws s3 cp "$DUMP_FILE" "s3://${BACKUP_BUCKET}/${key}" --sse aws:kms --sse-kms-key-id "${KMS_KEY_ARN}" --only-show-errors
echo "uploaded s3://${BACKUP_BUCKET}/${key}"
`

// Images, pinned: the dump's client matches the server's major version.
const AWSCLIImage = "public.ecr.aws/aws-cli/aws-cli:2.27.50"

// PostgresImage is the client image of a PostgreSQL major version.
func PostgresImage(major string) (string, error) {
	minor := map[string]string{"14": "14.18", "15": "15.13", "16": "16.9", "17": "17.5"}[major]
	if minor == "" {
		return "", fmt.Errorf("no pg_dump image for PostgreSQL %q", major)
	}
	return "public.ecr.aws/docker/library/postgres:" + minor + "-alpine", nil
}

// User ids the containers run as: the postgres user of the Alpine image,
// and an unprivileged one for the AWS CLI.
const (
	postgresUID = 70
	uploaderUID = 65532
)

// Args configure the job.
type Args struct {
	Namespace string
	Schedule  string
	// PostgresMajor picks the pg_dump image.
	PostgresMajor string
	// DatabaseURLSecret and DatabaseURLKey hold DATABASE_URL.
	DatabaseURLSecret, DatabaseURLKey string
	DatabaseCIDRs                     []string
	DatabasePort                      int
	Region                            string
	BucketName                        pulumi.StringInput
	BucketARN                         pulumi.StringInput
	KMSKeyARN                         pulumi.StringInput
	// Prefix is the key prefix dumps go under: the environment.
	Prefix string
	// ScratchSize bounds the emptyDir the dump is written to.
	ScratchSize string
	OIDC        *cluster.OIDC
}

// DumpJob is the CronJob and its identity.
type DumpJob struct {
	pulumi.ResourceState

	RoleARN pulumi.StringOutput `pulumi:"roleArn"`
}

// New builds the job: Kubernetes resources through the provider in opts,
// the IRSA role through the AWS one.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*DumpJob, error) {
	if args == nil || args.Namespace == "" || args.Schedule == "" || args.OIDC == nil || args.Prefix == "" {
		return nil, errors.New("dbbackup: args with a namespace, a schedule, a prefix and the cluster's OIDC provider are required")
	}
	image, err := PostgresImage(args.PostgresMajor)
	if err != nil {
		return nil, fmt.Errorf("dbbackup: %w", err)
	}
	j := &DumpJob{}
	if err := ctx.RegisterComponentResource(TypeToken, name, j, opts...); err != nil {
		return nil, fmt.Errorf("dbbackup: register: %w", err)
	}
	parent := pulumi.Parent(j)

	role, err := args.OIDC.NewRole(ctx, name+"-irsa", cluster.RoleArgs{
		Namespace: args.Namespace, ServiceAccount: Name,
		Description: "Nightly database dump: puts objects under " + args.Prefix + "/ in the backup bucket",
		Policy:      pulumi.All(args.BucketARN, args.KMSKeyARN).ApplyT(func(v []any) string { return UploadPolicy(v[0].(string), v[1].(string), args.Prefix).JSON() }).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("dbbackup: %w", err)
	}
	j.RoleARN = role.Arn

	meta := &metav1.ObjectMetaArgs{
		Name:      pulumi.String(Name),
		Namespace: pulumi.String(args.Namespace),
		Labels:    pulumi.ToStringMap(workload.Labels(Name)),
	}
	sa, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(Name), Namespace: pulumi.String(args.Namespace),
			Labels:      pulumi.ToStringMap(workload.Labels(Name)),
			Annotations: pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Arn},
		},
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("dbbackup: service account: %w", err)
	}
	if _, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: meta,
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(workload.Selector(Name))},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				workload.DNSEgress(),
				workload.CIDREgress(args.DatabaseCIDRs, args.DatabasePort),
				// S3 and STS answer on public addresses (S3 through the
				// VPC's gateway endpoint): HTTPS out, nothing else.
				workload.CIDREgress([]string{"0.0.0.0/0"}, 443),
			},
		},
	}, parent); err != nil {
		return nil, fmt.Errorf("dbbackup: network policy: %w", err)
	}
	if _, err := batchv1.NewCronJob(ctx, name, &batchv1.CronJobArgs{
		Metadata: meta,
		Spec:     cronJobSpec(args, image, sa.Metadata.Name().Elem(), args.BucketName),
	}, parent); err != nil {
		return nil, fmt.Errorf("dbbackup: cron job: %w", err)
	}
	if err := ctx.RegisterResourceOutputs(j, pulumi.Map{"roleArn": j.RoleARN}); err != nil {
		return nil, fmt.Errorf("dbbackup: register outputs: %w", err)
	}
	return j, nil
}

// UploadPolicy lets the job put objects under prefix/ in the bucket,
// encrypted with the bucket's key, and nothing else: no read, no delete,
// no list.
func UploadPolicy(bucketARN, keyARN, prefix string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "PutDumps", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{bucketARN + "/" + prefix + "/*"}},
		policydoc.Statement{Sid: "EncryptDumps", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: []string{keyARN}},
	)
}

func cronJobSpec(args *Args, image string, serviceAccount, bucket pulumi.StringInput) *batchv1.CronJobSpecArgs {
	dumpFile := corev1.EnvVarArgs{Name: pulumi.String("DUMP_FILE"), Value: pulumi.String(DumpFile)}
	scratch := corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("backup"), MountPath: pulumi.String("/backup")}}
	return &batchv1.CronJobSpecArgs{
		Schedule: pulumi.String(args.Schedule),
		TimeZone: pulumi.String("Etc/UTC"),
		// Never two dumps at once; a dump that could not start within the
		// hour is skipped and the alert on the last success fires.
		ConcurrencyPolicy:          pulumi.String("Forbid"),
		StartingDeadlineSeconds:    pulumi.Int(3600),
		SuccessfulJobsHistoryLimit: pulumi.Int(3),
		FailedJobsHistoryLimit:     pulumi.Int(5),
		JobTemplate: &batchv1.JobTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(workload.Labels(Name))},
			Spec: &batchv1.JobSpecArgs{
				BackoffLimit:          pulumi.Int(2),
				ActiveDeadlineSeconds: pulumi.Int(3 * 3600),
				Template: &corev1.PodTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(workload.Labels(Name))},
					Spec: &corev1.PodSpecArgs{
						RestartPolicy:      pulumi.String("Never"),
						ServiceAccountName: serviceAccount,
						// The IRSA webhook mounts its own web-identity token;
						// the Kubernetes API token is not needed.
						AutomountServiceAccountToken: pulumi.Bool(false),
						SecurityContext: &corev1.PodSecurityContextArgs{
							RunAsNonRoot:   pulumi.Bool(true),
							FsGroup:        pulumi.Int(postgresUID),
							SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
						},
						InitContainers: corev1.ContainerArray{corev1.ContainerArgs{
							Name:    pulumi.String("pg-dump"),
							Image:   pulumi.String(image),
							Command: pulumi.StringArray{pulumi.String("/bin/sh"), pulumi.String("-c"), pulumi.String(DumpScript)},
							Env: corev1.EnvVarArray{
								corev1.EnvVarArgs{
									Name: pulumi.String("DATABASE_URL"),
									ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
										Name: pulumi.String(args.DatabaseURLSecret), Key: pulumi.String(args.DatabaseURLKey),
									}},
								},
								dumpFile,
							},
							Resources:       resources("250m", "512Mi", "1", "1Gi"),
							SecurityContext: withUser(postgresUID),
							VolumeMounts:    scratch,
						}},
						Containers: corev1.ContainerArray{corev1.ContainerArgs{
							Name:    pulumi.String("upload"),
							Image:   pulumi.String(AWSCLIImage),
							Command: pulumi.StringArray{pulumi.String("/bin/sh"), pulumi.String("-c"), pulumi.String(UploadScript)},
							Env: corev1.EnvVarArray{
								dumpFile,
								corev1.EnvVarArgs{Name: pulumi.String("BACKUP_BUCKET"), Value: bucket},
								corev1.EnvVarArgs{Name: pulumi.String("S3_PREFIX"), Value: pulumi.String(args.Prefix)},
								corev1.EnvVarArgs{Name: pulumi.String("KMS_KEY_ARN"), Value: args.KMSKeyARN},
								corev1.EnvVarArgs{Name: pulumi.String("AWS_REGION"), Value: pulumi.String(args.Region)},
								// The CLI writes its cache under $HOME.
								corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String("/tmp")},
							},
							Resources:       resources("100m", "256Mi", "500m", "512Mi"),
							SecurityContext: withUser(uploaderUID),
							VolumeMounts: append(scratch, corev1.VolumeMountArgs{
								Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp"),
							}),
						}},
						Volumes: corev1.VolumeArray{
							corev1.VolumeArgs{Name: pulumi.String("backup"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String(args.ScratchSize)}},
							corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("256Mi")}},
						},
					},
				},
			},
		},
	}
}

func withUser(uid int) *corev1.SecurityContextArgs {
	sc := workload.RestrictedSecurityContext()
	sc.RunAsUser = pulumi.Int(uid)
	sc.RunAsGroup = pulumi.Int(uid)
	return sc
}

func resources(reqCPU, reqMem, limCPU, limMem string) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(reqCPU), "memory": pulumi.String(reqMem)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(limCPU), "memory": pulumi.String(limMem)},
	}
}
