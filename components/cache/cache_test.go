package cache_test

import (
	"reflect"
	"testing"

	"github.com/personalization/platform/components/cache"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/stacks"
)

func TestReplicationGroupPerStack(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			want := stacks.Defaults(stacks.Environment(stack)).Cache
			rg := platformtest.Child(t, g, cache.TypeToken, "aws:elasticache/replicationGroup:ReplicationGroup")
			key := platformtest.Child(t, g, cache.TypeToken, "aws:kms/key:Key")
			replicated := want.Nodes >= 2
			expect := map[string]any{
				"engine":                   "redis",
				"engineVersion":            want.EngineVersion,
				"nodeType":                 want.NodeType,
				"numCacheClusters":         float64(want.Nodes),
				"automaticFailoverEnabled": replicated,
				"multiAzEnabled":           replicated,
				"transitEncryptionEnabled": true,
				"transitEncryptionMode":    "required",
				"atRestEncryptionEnabled":  true,
				"kmsKeyId":                 "arn:aws:kms:eu-west-1:123456789012:key/" + key.Name,
				"authToken":                graph.Secret,
				"snapshotRetentionLimit":   float64(want.SnapshotRetentionDays),
				"autoMinorVersionUpgrade":  true,
				"port":                     float64(6379),
				"parameterGroupName":       "default.redis7",
			}
			for k, v := range expect {
				if got := rg.Input(k); !reflect.DeepEqual(got, v) {
					t.Errorf("%s = %v, want %v", k, got, v)
				}
			}
			logs := rg.Input("logDeliveryConfigurations").([]any)
			if len(logs) != 1 || logs[0].(map[string]any)["logType"] != "slow-log" {
				t.Errorf("log delivery %v", logs)
			}
			if rg.Protect != (stack == "production") || key.Protect != (stack == "production") {
				t.Errorf("protect: group %v key %v", rg.Protect, key.Protect)
			}
			if stack == "production" && want.Nodes < 2 {
				t.Error("production has no replica")
			}
			rule := platformtest.Child(t, g, cache.TypeToken, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
			if rule.Input("referencedSecurityGroupId") != g.Outputs["nodeSecurityGroupId"] || rule.Input("fromPort") != float64(6379) {
				t.Errorf("6379 rule %v", rule.Inputs)
			}
			subnets := platformtest.Child(t, g, cache.TypeToken, "aws:elasticache/subnetGroup:SubnetGroup")
			if !reflect.DeepEqual(subnets.Input("subnetIds"), g.Outputs["privateSubnetIds"]) {
				t.Errorf("cache subnets %v, want the private subnets", subnets.Input("subnetIds"))
			}
		})
	}
}

func TestParameterGroupPerVersion(t *testing.T) {
	for version, want := range map[string]string{"6.2": "default.redis6.x", "7.0": "default.redis7", "7.1": "default.redis7"} {
		if got := cache.ParameterGroup(version); got != want {
			t.Errorf("%s: %s, want %s", version, got, want)
		}
	}
}
