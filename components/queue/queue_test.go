package queue_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/personalization/platform/components/queue"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func byName(t *testing.T, g *graph.Graph, typ string) map[string]*graph.Resource {
	t.Helper()
	out := map[string]*graph.Resource{}
	for _, r := range platformtest.Children(t, g, queue.TypeToken, typ) {
		out[r.Name] = r
	}
	return out
}

// TestQueuePerStack: the queue and its dead-letter queue, encrypted with
// their key, the redrive after the profile's receive count, retention and
// visibility from the profile, plain HTTP refused on both.
func TestQueuePerStack(t *testing.T) {
	retention := map[string]float64{"dev": 345600, "staging": 345600, "production": 1209600}
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			queues := byName(t, g, "aws:sqs/queue:Queue")
			main, dlq := queues["queue"], queues["queue-dead-letters"]
			if main == nil || dlq == nil {
				t.Fatalf("queues %v", queues)
			}
			key := platformtest.Child(t, g, queue.TypeToken, "aws:kms/key:Key")
			for _, q := range []*graph.Resource{main, dlq} {
				if !q.DependsThrough("kmsMasterKeyId", key.URN) {
					t.Errorf("%s not encrypted with the queue key", q.Name)
				}
			}
			if main.Input("messageRetentionSeconds") != retention[stack] || main.Input("visibilityTimeoutSeconds") != 60.0 {
				t.Errorf("queue retention %v, visibility %v", main.Input("messageRetentionSeconds"), main.Input("visibilityTimeoutSeconds"))
			}
			var redrive map[string]any
			if err := json.Unmarshal([]byte(main.Input("redrivePolicy").(string)), &redrive); err != nil {
				t.Fatal(err)
			}
			if redrive["maxReceiveCount"] != 5.0 || !strings.HasSuffix(redrive["deadLetterTargetArn"].(string), "queue-dead-letters") {
				t.Errorf("redrive %v", redrive)
			}
			for name, p := range byName(t, g, "aws:sqs/queuePolicy:QueuePolicy") {
				if !strings.Contains(p.Input("policy").(string), `"aws:SecureTransport":"false"`) || !strings.Contains(p.Input("policy").(string), `"Effect":"Deny"`) {
					t.Errorf("%s does not refuse plain HTTP: %v", name, p.Input("policy"))
				}
			}
		})
	}
}

// TestAPIMayOnlySendReceiveDelete: the API's IRSA role gets the three
// queue actions on the queue (and the key for them), and its pods the
// queue's URL as plain config.
func TestAPIMayOnlySendReceiveDelete(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	var policy struct {
		Statement []struct {
			Action   []string
			Resource []string
		}
	}
	for _, p := range g.OfType("aws:iam/rolePolicy:RolePolicy") {
		if p.Name == "personalization-api-irsa" {
			if err := json.Unmarshal([]byte(p.Input("policy").(string)), &policy); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(policy.Statement) != 2 || !slices.Equal(policy.Statement[0].Action, []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"}) ||
		!reflect.DeepEqual(policy.Statement[0].Resource, []string{"arn:aws:sqs:eu-west-1:123456789012:queue/queue"}) ||
		!slices.Equal(policy.Statement[1].Action, []string{"kms:GenerateDataKey", "kms:Decrypt"}) {
		t.Errorf("API policy %+v", policy)
	}
	for _, typ := range []string{"kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout"} {
		for _, w := range g.OfType(typ) {
			c, _ := w.Lookup("spec.template.spec.containers")
			var url any
			for _, e := range c.([]any)[0].(map[string]any)["env"].([]any) {
				if e.(map[string]any)["name"] == "QUEUE_URL" {
					url = e.(map[string]any)["value"]
				}
			}
			if name, _ := w.Lookup("metadata.name"); (name == "personalization-api") != (url != nil) {
				t.Errorf("%v: QUEUE_URL %v", name, url)
			}
		}
	}
}

// TestQueueAlarms: the oldest message's age and any dead letter alarm.
func TestQueueAlarms(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	got := map[string]any{}
	for _, a := range g.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if a.Input("namespace") == "AWS/SQS" {
			got[a.Input("metricName").(string)] = a.Input("threshold")
		}
	}
	if !reflect.DeepEqual(got, map[string]any{"ApproximateAgeOfOldestMessage": 300.0, "ApproximateNumberOfMessagesVisible": 0.0}) {
		t.Errorf("queue alarms %v", got)
	}
}
