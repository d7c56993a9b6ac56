package dbbackup_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/personalization/platform/components/dbbackup"
	"github.com/personalization/platform/internal/platformtest"
)

func TestNightlyDump(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			cj := platformtest.Child(t, g, dbbackup.TypeToken, "kubernetes:batch/v1:CronJob")
			spec := cj.Input("spec").(map[string]any)
			for k, want := range map[string]any{
				"schedule": "0 2 * * *", "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid",
				"startingDeadlineSeconds": float64(3600), "successfulJobsHistoryLimit": float64(3), "failedJobsHistoryLimit": float64(5),
			} {
				if spec[k] != want {
					t.Errorf("%s = %v, want %v", k, spec[k], want)
				}
			}
			pod, _ := cj.Lookup("spec.jobTemplate.spec.template.spec")
			podSpec := pod.(map[string]any)
			if podSpec["restartPolicy"] != "Never" {
				t.Errorf("restart policy %v", podSpec["restartPolicy"])
			}
			dump := podSpec["initContainers"].([]any)[0].(map[string]any)
			if dump["image"] != "public.ecr.aws/docker/library/postgres:15.13-alpine" {
				t.Errorf("pg_dump image %v, want PostgreSQL 15 to match the server", dump["image"])
			}
			if cmd := dump["command"].([]any); cmd[2] != dbbackup.DumpScript || !strings.Contains(dbbackup.DumpScript, "pg_dump --format=custom") {
				t.Errorf("dump command %v", cmd)
			}
			upload := podSpec["containers"].([]any)[0].(map[string]any)
			if upload["command"].([]any)[2] != dbbackup.UploadScript {
				t.Error("upload runs another script")
			}
			env := map[string]any{}
			for _, e := range upload["env"].([]any) {
				m := e.(map[string]any)
				env[m["name"].(string)] = m["value"]
			}
			if env["S3_PREFIX"] != stack || env["BACKUP_BUCKET"] != "backup-0ff11e" || env["KMS_KEY_ARN"] != "arn:aws:kms:eu-west-1:123456789012:key/backup-key" {
				t.Errorf("upload env %v", env)
			}
			if !strings.Contains(dbbackup.UploadScript, `--sse aws:kms --sse-kms-key-id "${KMS_KEY_ARN}"`) ||
				!strings.Contains(dbbackup.UploadScript, `s3://${BACKUP_BUCKET}/${key}`) || env["DUMP_FILE"] != dbbackup.DumpFile {
				t.Error("upload is not SSE-KMS to the bucket under the prefix")
			}
		})
	}
}

// TestUploadRoleMayOnlyPutUnderThePrefix: the IRSA role of the job puts
// objects under <environment>/ and encrypts with the bucket's key, nothing
// more; its trust names only the job's service account.
func TestUploadRoleMayOnlyPutUnderThePrefix(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	var policy struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	rp := platformtest.Child(t, g, dbbackup.TypeToken, "aws:iam/rolePolicy:RolePolicy")
	if err := json.Unmarshal([]byte(rp.Input("policy").(string)), &policy); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action, resource string
	}{
		{"s3:PutObject", "arn:aws:s3:::backup-0ff11e/production/*"},
		{"kms:GenerateDataKey", "arn:aws:kms:eu-west-1:123456789012:key/backup-key"},
		{"kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/backup-key"},
	}
	var got []struct{ action, resource string }
	for _, st := range policy.Statement {
		for _, a := range st.Action {
			for _, r := range st.Resource {
				if st.Effect != "Allow" {
					t.Errorf("unexpected %s statement", st.Effect)
				}
				got = append(got, struct{ action, resource string }{a, r})
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("policy grants %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("grant %d: %v, want %v", i, got[i], want[i])
		}
	}
	role := platformtest.Child(t, g, dbbackup.TypeToken, "aws:iam/role:Role")
	if !strings.Contains(role.Input("assumeRolePolicy").(string), `"system:serviceaccount:personalization:database-backup"`) {
		t.Errorf("trust %v", role.Input("assumeRolePolicy"))
	}
	sa := platformtest.Child(t, g, dbbackup.TypeToken, "kubernetes:core/v1:ServiceAccount")
	if ann, _ := sa.Lookup("metadata.annotations"); !reflect.DeepEqual(ann, map[string]any{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/database-backup-irsa"}) {
		t.Errorf("service account annotations %v", ann)
	}
}

func TestPostgresImageMatchesTheMajorVersion(t *testing.T) {
	for _, major := range []string{"14", "15", "16", "17"} {
		img, err := dbbackup.PostgresImage(major)
		if err != nil || !strings.Contains(img, ":"+major+".") {
			t.Errorf("%s: %s %v", major, img, err)
		}
	}
	if _, err := dbbackup.PostgresImage("9"); err == nil {
		t.Error("an unknown major version got an image")
	}
}
