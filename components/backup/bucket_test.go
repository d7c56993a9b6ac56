package backup_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/personalization/platform/components/backup"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func TestBucketControls(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			component := platformtest.One(t, g, backup.TypeToken)
			production := stack == "production"
			buckets := ofType(g, component, "aws:s3/bucketV2:BucketV2")
			wantBuckets := 1
			if production {
				wantBuckets = 3 // and the replica and the access-log bucket
			}
			if len(buckets) != wantBuckets {
				t.Fatalf("%d buckets, want %d", len(buckets), wantBuckets)
			}
			for _, b := range buckets {
				if b.Protect != production {
					t.Errorf("%s protect %v", b.Name, b.Protect)
				}
				if b.Input("forceDestroy") != !production && stack == "dev" {
					t.Errorf("%s forceDestroy %v", b.Name, b.Input("forceDestroy"))
				}
				if production && b.Input("forceDestroy") != false {
					t.Errorf("production bucket %s allows forceDestroy", b.Name)
				}
			}
			for _, typ := range []string{
				"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
				"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
				"aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
			} {
				if n := len(ofType(g, component, typ)); n != wantBuckets {
					t.Errorf("%d of %s, want one per bucket", n, typ)
				}
			}
			for _, v := range ofType(g, component, "aws:s3/bucketVersioningV2:BucketVersioningV2") {
				if s, _ := v.Lookup("versioningConfiguration.status"); s != "Enabled" {
					t.Errorf("versioning %v", s)
				}
			}
			for _, e := range ofType(g, component, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2") {
				rule := e.Input("rules").([]any)[0].(map[string]any)
				def := rule["applyServerSideEncryptionByDefault"].(map[string]any)
				if e.Name == "backup-access-logs-encryption" {
					// S3 log delivery writes only to SSE-S3 buckets.
					if def["sseAlgorithm"] != "AES256" {
						t.Errorf("access-log bucket encryption %v", rule)
					}
					continue
				}
				if def["sseAlgorithm"] != "aws:kms" || def["kmsMasterKeyId"] == nil || rule["bucketKeyEnabled"] != true {
					t.Errorf("encryption %v", rule)
				}
			}
			for _, p := range ofType(g, component, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") {
				for _, flag := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					if p.Input(flag) != true {
						t.Errorf("%s: %s is not on", p.Name, flag)
					}
				}
			}
			for _, o := range ofType(g, component, "aws:s3/bucketOwnershipControls:BucketOwnershipControls") {
				if r, _ := o.Lookup("rule.objectOwnership"); r != "BucketOwnerEnforced" {
					t.Errorf("ownership %v", r)
				}
			}
			for _, p := range ofType(g, component, "aws:s3/bucketPolicy:BucketPolicy") {
				var doc struct {
					Statement []struct {
						Effect    string
						Condition map[string]map[string]string
					}
				}
				if err := json.Unmarshal([]byte(p.Input("policy").(string)), &doc); err != nil {
					t.Fatal(err)
				}
				if doc.Statement[0].Effect != "Deny" || doc.Statement[0].Condition["Bool"]["aws:SecureTransport"] != "false" {
					t.Errorf("%s does not deny plain HTTP: %v", p.Name, doc)
				}
			}
			for _, l := range ofType(g, component, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2") {
				rule := l.Input("rules").([]any)[0].(map[string]any)
				days := float64(30)
				if l.Name == "backup-access-logs-lifecycle" {
					days = backup.AccessLogRetentionDays
				}
				want := map[string]any{
					"expiration":                     map[string]any{"days": days},
					"noncurrentVersionExpiration":    map[string]any{"noncurrentDays": float64(7)},
					"abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": float64(1)},
				}
				for k, v := range want {
					if !reflect.DeepEqual(rule[k], v) {
						t.Errorf("lifecycle %s = %v, want %v", k, rule[k], v)
					}
				}
			}
		})
	}
}

func TestReplicationToTheDRRegionInProductionOnly(t *testing.T) {
	for _, stack := range []string{"dev", "production"} {
		g := platformtest.Render(t, stack, nil)
		component := platformtest.One(t, g, backup.TypeToken)
		configs := ofType(g, component, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
		if stack == "dev" {
			if len(configs) != 0 || len(g.OfType("pulumi:providers:aws")) != 1 {
				t.Errorf("dev replicates its dumps")
			}
			continue
		}
		if len(configs) != 1 {
			t.Fatalf("production: %d replication configurations", len(configs))
		}
		var dr *graph.Resource
		for _, p := range g.OfType("pulumi:providers:aws") {
			if p.Input("region") == "eu-central-1" {
				dr = p
			}
		}
		if dr == nil {
			t.Fatal("no provider for the DR region")
		}
		for _, r := range g.Descendants(component.URN) {
			replicaSide := r.Name == "backup-replica" || strings.HasPrefix(r.Name, "backup-replica-")
			if replicaSide != (r.Provider == dr.URN) {
				t.Errorf("%s: in the DR region %v, replica side %v", r.Name, r.Provider == dr.URN, replicaSide)
			}
		}
		rule := configs[0].Input("rules").([]any)[0].(map[string]any)
		dest := rule["destination"].(map[string]any)
		if dest["bucket"] != "arn:aws:s3:::backup-replica-0ff11e" {
			t.Errorf("replicates to %v", dest["bucket"])
		}
		if enc := dest["encryptionConfiguration"].(map[string]any)["replicaKmsKeyId"]; enc != "arn:aws:kms:eu-central-1:123456789012:key/backup-replica-key" {
			t.Errorf("replica key %v", enc)
		}
		if g.Outputs["backupReplicaBucketArn"] != "arn:aws:s3:::backup-replica-0ff11e" {
			t.Errorf("replica output %v", g.Outputs["backupReplicaBucketArn"])
		}
	}
}

func ofType(g *graph.Graph, component *graph.Resource, typ string) []*graph.Resource {
	var out []*graph.Resource
	for _, r := range g.Descendants(component.URN) {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func TestAccessLogsOfTheDumpBucketInProduction(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	logging := platformtest.Child(t, g, backup.TypeToken, "aws:s3/bucketLoggingV2:BucketLoggingV2")
	if logging.Input("bucket") != "backup-id" || logging.Input("targetBucket") != "backup-access-logs-id" {
		t.Errorf("access logging %v", logging.Inputs)
	}
	if len(platformtest.Render(t, "dev", nil).OfType("aws:s3/bucketLoggingV2:BucketLoggingV2")) != 0 {
		t.Error("dev logs its dump bucket's access")
	}
}
