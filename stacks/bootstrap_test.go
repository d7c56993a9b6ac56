package stacks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func bootstrapSource(overrides map[string]string) Source {
	values := map[string]string{
		RegionKey:                               "eu-west-1",
		BootstrapProject + ":accountId":         "123456789012",
		BootstrapProject + ":repository":        "acme/personalization-platform",
		BootstrapProject + ":" + GitHubTokenKey: "github_pat_example",
	}
	for k, v := range overrides {
		if v == "" {
			delete(values, k)
			continue
		}
		values[k] = v
	}
	return mapSource{values: values, secrets: map[string]bool{BootstrapProject + ":" + GitHubTokenKey: true}}
}

func TestBootstrapBadInput(t *testing.T) {
	at := func(k string) string { return BootstrapProject + ":" + k }
	tests := []struct {
		name   string
		config map[string]string
		want   []string
	}{
		{"account id of 11 digits", map[string]string{at("accountId"): "12345678901"}, []string{at("accountId"), `"12345678901"`, "12 digits"}},
		{"account id with letters", map[string]string{at("accountId"): "12345678901a"}, []string{at("accountId"), "12 digits"}},
		{"missing account id", map[string]string{at("accountId"): ""}, []string{at("accountId"), "12 digits"}},
		{"repository without an owner", map[string]string{at("repository"): "personalization-platform"}, []string{at("repository"), `"owner/name"`}},
		{"repository with a wildcard", map[string]string{at("repository"): "acme/*"}, []string{at("repository"), `"acme/*"`, "not one GitHub repository"}},
		{"a whole organisation", map[string]string{at("repository"): "acme/"}, []string{at("repository")}},
		{"unknown environment", map[string]string{at("environments"): `["dev", "qa"]`}, []string{at("environments[1]"), `"qa"`, `"production"`}},
		{"environment twice", map[string]string{at("environments"): `["dev", "dev"]`}, []string{at("environments[1]"), "given twice"}},
		{"no environment", map[string]string{at("environments"): `[]`}, []string{at("environments"), "no deploy role"}},
		{"policy that is not an ARN", map[string]string{at("deployPolicyArns"): `["AdministratorAccess"]`}, []string{at("deployPolicyArns[0]"), "IAM policy ARN"}},
		{"environments not a list", map[string]string{at("environments"): `"dev"`}, []string{at("environments"), "does not parse"}},
		{"state versions kept forever", map[string]string{at("stateNoncurrentDays"): "0"}, []string{at("stateNoncurrentDays"), "from 1 to 3650"}},
		{"no region", map[string]string{RegionKey: ""}, []string{RegionKey, "is not set"}},
		{"runner VPC not a CIDR", map[string]string{at("runnerCidr"): "10.250.0.0/33"}, []string{at("runnerCidr"), `"10.250.0.0/33"`, "not an IPv4 CIDR"}},
		{"runner VPC public", map[string]string{at("runnerCidr"): "198.18.0.0/16"}, []string{at("runnerCidr"), "not a private range"}},
		{"runner VPC inside production's", map[string]string{at("runnerCidr"): "10.30.16.0/20"}, []string{at("runnerCidr"), "overlaps the production tier's VPC 10.30.0.0/16"}},
		{"runner VPC too small", map[string]string{at("runnerCidr"): "10.250.0.0/26"}, []string{at("runnerCidr"), "/16 to /20"}},
		{"runner compute type", map[string]string{at("runnerComputeType"): "BUILD_GENERAL1_HUGE"}, []string{at("runnerComputeType"), "BUILD_GENERAL1_MEDIUM"}},
		{"runner image with a space", map[string]string{at("runnerImage"): "amazon linux"}, []string{at("runnerImage"), "not an image reference"}},
		{"no GitHub token", map[string]string{at(GitHubTokenKey): ""}, []string{at(GitHubTokenKey), "is not set", "pulumi config set --secret githubToken"}},
	}
	plain := bootstrapSource(nil).(mapSource)
	plain.secrets = nil
	if _, err := ParseBootstrap("example", plain); err == nil || !strings.Contains(err.Error(), at(GitHubTokenKey)+": is set in plain text") {
		t.Errorf("a GitHub token in plain text: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBootstrap("example", bootstrapSource(tt.config))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestBootstrapDefaultsMatchTheProjectFile: the defaults Pulumi.yaml
// declares (which the CLI hands the program) are the profile's own.
func TestBootstrapDefaultsMatchTheProjectFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "bootstrap", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Config map[string]struct{ Default any } `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &project); err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{}
	for k, c := range project.Config {
		if c.Default == nil {
			continue
		}
		if str, isString := c.Default.(string); isString {
			// The engine hands a string value over as it is.
			declared[BootstrapProject+":"+k] = str
			continue
		}
		b, _ := json.Marshal(c.Default)
		declared[BootstrapProject+":"+k] = string(b)
	}
	withDeclared, err := ParseBootstrap("example", bootstrapSource(declared))
	if err != nil {
		t.Fatal(err)
	}
	bare, err := ParseBootstrap("example", bootstrapSource(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(withDeclared, bare) {
		t.Errorf("Pulumi.yaml's defaults give %+v, the profile's %+v", withDeclared, bare)
	}
	for _, k := range BootstrapKeys() {
		if _, ok := project.Config[k]; !ok {
			t.Errorf("bootstrap/Pulumi.yaml does not declare %s", k)
		}
	}
}
