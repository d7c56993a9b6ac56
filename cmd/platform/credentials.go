package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

// credentialLookupTimeout bounds the AWS SDK's search through its chain:
// off EC2 the instance metadata service does not answer, and a person
// should hear so within seconds.
const credentialLookupTimeout = 5 * time.Second

// errNoCredentials is the one line said when no source of AWS credentials
// exists at all.
var errNoCredentials = errors.New("no AWS credentials: none in the environment, ~/.aws, a container or the instance metadata service; " +
	"set AWS_PROFILE or AWS_ACCESS_KEY_ID, or assume the deploy role with OIDC in the workflow (aws-actions/configure-aws-credentials)")

// declaredCredentialVariables are the environment variables by which a
// source of credentials is declared; the Pulumi AWS provider resolves each
// itself, so their presence is enough.
func declaredCredentialVariables() []string {
	return []string{
		"AWS_ACCESS_KEY_ID", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	}
}

// checkAWSCredentials refuses, in one line, only when no AWS credentials
// can be had at all. Declared sources (environment, shared files, web
// identity, container) are accepted as they are; otherwise the AWS SDK's
// own default chain is asked, which is how a runner on EC2 or CodeBuild
// gets its role's credentials from the instance metadata service.
func checkAWSCredentials(ctx context.Context) error {
	for _, v := range declaredCredentialVariables() {
		if os.Getenv(v) != "" {
			return nil
		}
	}
	for _, f := range sharedAWSFiles() {
		if _, err := os.Stat(f); err == nil {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, credentialLookupTimeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return errNoCredentials
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return errNoCredentials
	}
	return nil
}

// sharedAWSFiles are the AWS CLI's credentials and config files, where the
// SDKs look for them.
func sharedAWSFiles() []string {
	var files []string
	for _, v := range []string{"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"} {
		if f := os.Getenv(v); f != "" {
			files = append(files, f)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config"))
	}
	return files
}
