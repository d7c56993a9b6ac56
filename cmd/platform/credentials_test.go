package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeInstanceMetadata answers as EC2's instance metadata service does
// (IMDSv2: a token first, then the role's name, then its credentials).
// With role empty it answers the token but has no instance profile.
func fakeInstanceMetadata(t *testing.T, role string) *httptest.Server {
	t.Helper()
	const token = "imds-token"
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
		_, _ = w.Write([]byte(token))
	})
	mux.HandleFunc("GET /latest/meta-data/iam/security-credentials/{name...}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Aws-Ec2-Metadata-Token") != token || role == "" {
			http.NotFound(w, r)
			return
		}
		if r.PathValue("name") == "" {
			_, _ = w.Write([]byte(role))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAINSTANCE", "SecretAccessKey": "secret",
			"Token": "session", "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			"LastUpdated": time.Now().UTC().Format(time.RFC3339),
		})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// isolateAWS clears every declared source of credentials and points the
// instance metadata client at endpoint (never at the real link-local
// address from a test).
func isolateAWS(t *testing.T, endpoint string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range append(declaredCredentialVariables(), "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_EC2_METADATA_DISABLED") {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none", "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "none", "config"))
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)
}

func TestCheckAWSCredentialsAcceptsEverySource(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the metadata endpoint
		wantErr bool
	}{
		{"static keys", func(t *testing.T) string {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
			return closedURL
		}, false},
		{"named profile", func(t *testing.T) string { t.Setenv("AWS_PROFILE", "deploy"); return closedURL }, false},
		{"web identity (GitHub OIDC, IRSA)", func(t *testing.T) string {
			t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", filepath.Join(t.TempDir(), "token"))
			return closedURL
		}, false},
		{"container credentials (ECS, CodeBuild)", func(t *testing.T) string {
			t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc")
			return closedURL
		}, false},
		{"shared credentials file", func(t *testing.T) string {
			f := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(f, []byte("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", f)
			return closedURL
		}, false},
		{"instance metadata service (EC2 runner)", func(t *testing.T) string {
			return fakeInstanceMetadata(t, "runner").URL
		}, false},
		{"instance without an instance profile", func(t *testing.T) string {
			return fakeInstanceMetadata(t, "").URL
		}, true},
		{"nothing at all", func(*testing.T) string { return closedURL }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, closedURL)
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", tt.setup(t))
			err := checkAWSCredentials(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkAWSCredentials() = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "no AWS credentials:")) {
				t.Errorf("the refusal is not one line starting %q: %q", "no AWS credentials:", err)
			}
		})
	}
}
