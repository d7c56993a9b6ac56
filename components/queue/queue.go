// Package queue is the service's asynchronous work: an SQS queue and its
// dead-letter queue, both encrypted with their own KMS key and refusing
// plain HTTP, a redrive after the profile's receive count, and the IAM
// policy its consumers get: send, receive and delete on the queue, nothing
// else.
package queue

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:queue:Queue"

// Args configure the queue.
type Args struct {
	// Name goes into the key's alias and description.
	Name string
	// MaxReceiveCount receives before a message moves to the dead-letter
	// queue.
	MaxReceiveCount          int
	VisibilityTimeoutSeconds int
	RetentionSeconds         int
	Protect                  bool
}

// Queue is the queue pair.
type Queue struct {
	pulumi.ResourceState

	URL     pulumi.StringOutput `pulumi:"url"`
	ARN     pulumi.StringOutput `pulumi:"arn"`
	Name    pulumi.StringOutput `pulumi:"name"`
	DLQARN  pulumi.StringOutput `pulumi:"dlqArn"`
	DLQName pulumi.StringOutput `pulumi:"dlqName"`
	KeyARN  pulumi.StringOutput `pulumi:"keyArn"`
	// ConsumerPolicy is the IAM policy a service that uses the queue gets.
	ConsumerPolicy pulumi.StringOutput `pulumi:"consumerPolicy"`
}

// DeadLetterRetentionSeconds keeps dead letters the longest SQS allows:
// someone has to look at them.
const DeadLetterRetentionSeconds = 14 * 24 * 3600

// New builds the queues through the AWS provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Queue, error) {
	if args == nil || args.Name == "" || args.MaxReceiveCount < 1 {
		return nil, errors.New("queue: args with a name and a receive count are required")
	}
	q := &Queue{}
	if err := ctx.RegisterComponentResource(TypeToken, name, q, opts...); err != nil {
		return nil, fmt.Errorf("queue: register: %w", err)
	}
	parent := pulumi.Parent(q)
	key, err := keys.New(ctx, name+"-key", keys.Args{
		Alias: args.Name + "-queue", Description: "Messages of " + args.Name + "'s queues", Protect: args.Protect,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	encrypted := func(extra sqs.QueueArgs) *sqs.QueueArgs {
		extra.KmsMasterKeyId = key.Arn
		// Data keys reused for five minutes: fewer KMS calls, same key.
		extra.KmsDataKeyReusePeriodSeconds = pulumi.Int(300)
		return &extra
	}
	dlq, err := sqs.NewQueue(ctx, name+"-dead-letters", encrypted(sqs.QueueArgs{
		MessageRetentionSeconds: pulumi.Int(DeadLetterRetentionSeconds),
	}), parent)
	if err != nil {
		return nil, fmt.Errorf("queue: dead-letter queue: %w", err)
	}
	main, err := sqs.NewQueue(ctx, name, encrypted(sqs.QueueArgs{
		MessageRetentionSeconds:  pulumi.Int(args.RetentionSeconds),
		VisibilityTimeoutSeconds: pulumi.Int(args.VisibilityTimeoutSeconds),
		// Long polling: consumers wait for messages instead of spinning.
		ReceiveWaitTimeSeconds: pulumi.Int(20),
		RedrivePolicy: dlq.Arn.ApplyT(func(arn string) (string, error) {
			return RedrivePolicy(arn, args.MaxReceiveCount)
		}).(pulumi.StringOutput),
	}), parent)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	// The dead-letter queue takes redrives from its queue only.
	if _, err := sqs.NewRedriveAllowPolicy(ctx, name+"-dead-letters", &sqs.RedriveAllowPolicyArgs{
		QueueUrl: dlq.Url,
		RedriveAllowPolicy: main.Arn.ApplyT(func(arn string) (string, error) {
			b, err := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []string{arn}})
			return string(b), err
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, fmt.Errorf("queue: redrive allow policy: %w", err)
	}
	for _, qu := range []struct {
		name string
		q    *sqs.Queue
	}{{name, main}, {name + "-dead-letters", dlq}} {
		if _, err := sqs.NewQueuePolicy(ctx, qu.name, &sqs.QueuePolicyArgs{
			QueueUrl: qu.q.Url,
			Policy:   qu.q.Arn.ApplyT(func(arn string) string { return TLSOnlyPolicy(arn).JSON() }).(pulumi.StringOutput),
		}, parent); err != nil {
			return nil, fmt.Errorf("queue: policy: %w", err)
		}
	}
	q.URL, q.ARN, q.Name = main.Url, main.Arn, main.Name
	q.DLQARN, q.DLQName, q.KeyARN = dlq.Arn, dlq.Name, key.Arn
	q.ConsumerPolicy = pulumi.All(main.Arn, key.Arn).ApplyT(func(v []any) string {
		return ConsumerPolicy(v[0].(string), v[1].(string)).JSON()
	}).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(q, pulumi.Map{
		"url": q.URL, "arn": q.ARN, "name": q.Name, "dlqArn": q.DLQARN, "dlqName": q.DLQName,
		"keyArn": q.KeyARN, "consumerPolicy": q.ConsumerPolicy,
	}); err != nil {
		return nil, fmt.Errorf("queue: register outputs: %w", err)
	}
	return q, nil
}

// RedrivePolicy moves a message to the dead-letter queue after
// maxReceives receives.
func RedrivePolicy(dlqARN string, maxReceives int) (string, error) {
	b, err := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": maxReceives})
	return string(b), err
}

// TLSOnlyPolicy denies every request to the queue over plain HTTP.
func TLSOnlyPolicy(queueARN string) policydoc.Document {
	return policydoc.New(policydoc.Statement{
		Sid: "DenyPlainHTTP", Effect: "Deny", Principal: map[string]any{"AWS": "*"},
		Action: []string{"sqs:*"}, Resource: []string{queueARN},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	})
}

// ConsumerActions are what a service using the queue may do on it.
var ConsumerActions = []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"}

// ConsumerPolicy lets a service send, receive and delete messages on the
// queue, and use its key for exactly that (SSE-KMS needs data keys).
func ConsumerPolicy(queueARN, keyARN string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "UseQueue", Effect: "Allow", Action: ConsumerActions, Resource: []string{queueARN}},
		policydoc.Statement{Sid: "UseQueueKey", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: []string{keyARN}},
	)
}
