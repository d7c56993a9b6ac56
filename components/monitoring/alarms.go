package monitoring

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
)

// Alarms are the CloudWatch alarms' targets and thresholds.
type Alarms struct {
	// AccountID lets CloudWatch use the topic's key in this account.
	AccountID string
	// Email, when set, is subscribed to the topic.
	Email string

	DatabaseID              pulumi.StringInput
	DatabaseAllocatedGiB    int
	DatabaseCPUPercent      float64
	DatabaseFreeStoragePct  float64
	DatabaseFreeableMemMiB  int
	DatabaseConnections     int
	CacheGroupID            pulumi.StringInput
	CacheNodes              int
	CacheCPUPercent         float64
	CacheMemoryPercent      float64
	CacheEvictions          int
	CacheReplicationLagSecs float64
	// QueueName and DeadLetterQueueName, when set, alarm on the oldest
	// message's age and on any dead letter.
	QueueName, DeadLetterQueueName pulumi.StringInput
	QueueOldestSeconds             int
}

type alarm struct {
	name, namespace, metric, statistic, comparison, description string
	threshold                                                   float64
	dimensions                                                  pulumi.StringMap
}

func (b *builder) alarms(a Alarms) (pulumi.StringOutput, error) {
	keyPolicy := policydoc.New(
		policydoc.Statement{
			Sid: "AccountAdministers", Effect: "Allow",
			Principal: map[string]any{"AWS": "arn:aws:iam::" + a.AccountID + ":root"},
			Action:    []string{"kms:*"}, Resource: []string{"*"},
		},
		policydoc.Statement{
			Sid: "CloudWatchPublishes", Effect: "Allow",
			Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"}, Resource: []string{"*"},
		},
	)
	key, err := keys.New(b.ctx, b.child("alarms-key"), keys.Args{
		Alias:       b.args.Name + "-alarms",
		Description: "Alarm notifications of " + b.args.Name,
		Policy:      pulumi.String(keyPolicy.JSON()),
		Protect:     b.args.Protect,
	}, b.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	topic, err := sns.NewTopic(b.ctx, b.child("alarms"), &sns.TopicArgs{
		DisplayName:    pulumi.String(b.args.Name + " alarms"),
		KmsMasterKeyId: key.Arn,
	}, b.parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("alarm topic: %w", err)
	}
	if a.Email != "" {
		if _, err := sns.NewTopicSubscription(b.ctx, b.child("alarms-email"), &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(a.Email),
		}, b.parent); err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("alarm e-mail: %w", err)
		}
	}

	db := pulumi.StringMap{"DBInstanceIdentifier": a.DatabaseID}
	list := []alarm{
		{"database-cpu", "AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold", "Database CPU above %g %%", a.DatabaseCPUPercent, db},
		{"database-free-storage", "AWS/RDS", "FreeStorageSpace", "Minimum", "LessThanThreshold", "Database free storage below %g bytes",
			float64(a.DatabaseAllocatedGiB) * a.DatabaseFreeStoragePct / 100 * (1 << 30), db},
		{"database-freeable-memory", "AWS/RDS", "FreeableMemory", "Minimum", "LessThanThreshold", "Database freeable memory below %g bytes",
			float64(a.DatabaseFreeableMemMiB) * (1 << 20), db},
		{"database-connections", "AWS/RDS", "DatabaseConnections", "Maximum", "GreaterThanThreshold", "Database connections above %g", float64(a.DatabaseConnections), db},
	}
	for i := 1; i <= a.CacheNodes; i++ {
		node := pulumi.StringMap{"CacheClusterId": pulumi.Sprintf("%s-%03d", a.CacheGroupID, i)}
		suffix := fmt.Sprintf("-%03d", i)
		list = append(list,
			alarm{"cache-cpu" + suffix, "AWS/ElastiCache", "EngineCPUUtilization", "Average", "GreaterThanThreshold", "Redis engine CPU above %g %%", a.CacheCPUPercent, node},
			alarm{"cache-memory" + suffix, "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Average", "GreaterThanThreshold", "Redis memory above %g %%", a.CacheMemoryPercent, node},
			alarm{"cache-evictions" + suffix, "AWS/ElastiCache", "Evictions", "Sum", "GreaterThanThreshold", "Redis evicted more than %g keys in 5 minutes", float64(a.CacheEvictions), node},
		)
		if a.CacheNodes > 1 {
			// Replicas only: the primary reports no replication lag.
			list = append(list, alarm{"cache-replication-lag" + suffix, "AWS/ElastiCache", "ReplicationLag", "Maximum", "GreaterThanThreshold",
				"Redis replication lag above %g s", a.CacheReplicationLagSecs, node})
		}
	}
	if a.QueueName != nil {
		list = append(list,
			alarm{"queue-oldest-message", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "GreaterThanThreshold",
				"The oldest message of the queue waits longer than %g s", float64(a.QueueOldestSeconds), pulumi.StringMap{"QueueName": a.QueueName}},
			alarm{"queue-dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "GreaterThanThreshold",
				"More than %g messages in the dead-letter queue", 0, pulumi.StringMap{"QueueName": a.DeadLetterQueueName}},
		)
	}
	for _, al := range list {
		if _, err := cloudwatch.NewMetricAlarm(b.ctx, b.child(al.name), &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String(fmt.Sprintf(al.description, al.threshold)),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Statistic:          pulumi.String(al.statistic),
			ComparisonOperator: pulumi.String(al.comparison),
			Threshold:          pulumi.Float64(al.threshold),
			Period:             pulumi.Int(300),
			EvaluationPeriods:  pulumi.Int(2),
			DatapointsToAlarm:  pulumi.Int(2),
			Dimensions:         al.dimensions,
			TreatMissingData:   pulumi.String("missing"),
			AlarmActions:       pulumi.Array{topic.Arn},
			OkActions:          pulumi.Array{topic.Arn},
		}, b.parent); err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("alarm %s: %w", al.name, err)
		}
	}
	return topic.Arn, nil
}
