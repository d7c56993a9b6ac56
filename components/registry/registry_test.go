package registry_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/personalization/platform/components/registry"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func children(t *testing.T, g *graph.Graph, typ string) []*graph.Resource {
	t.Helper()
	return platformtest.Children(t, g, registry.TypeToken, typ)
}

// TestRepositoryPerService: one immutable, scanned, KMS-encrypted
// repository per service, protected in production, with the lifecycle of
// the profile; the services run images from them.
func TestRepositoryPerService(t *testing.T) {
	keep := map[string]float64{"dev": 20, "staging": 20, "production": 50}
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			key := platformtest.Child(t, g, registry.TypeToken, "aws:kms/key:Key")
			var names []string
			for _, repo := range children(t, g, "aws:ecr/repository:Repository") {
				names = append(names, repo.Input("name").(string))
				if repo.Input("imageTagMutability") != "IMMUTABLE" {
					t.Errorf("%s: tags %v", repo.Name, repo.Input("imageTagMutability"))
				}
				if scan, _ := repo.Lookup("imageScanningConfiguration.scanOnPush"); scan != true {
					t.Errorf("%s: no scan on push", repo.Name)
				}
				enc := repo.Input("encryptionConfigurations").([]any)[0].(map[string]any)
				if enc["encryptionType"] != "KMS" || !repo.DependsThrough("encryptionConfigurations", key.URN) {
					t.Errorf("%s: encryption %v, want the registry's key", repo.Name, enc)
				}
				if repo.Protect != (stack == "production") {
					t.Errorf("%s: protect %v", repo.Name, repo.Protect)
				}
			}
			prefix := "personalization-platform-" + stack + "/"
			if !slices.Equal(names, []string{prefix + "personalization-api", prefix + "personalization-ui"}) {
				t.Errorf("repositories %v", names)
			}
			for _, lp := range children(t, g, "aws:ecr/lifecyclePolicy:LifecyclePolicy") {
				var policy struct {
					Rules []struct {
						Selection struct {
							TagStatus   string  `json:"tagStatus"`
							CountType   string  `json:"countType"`
							CountNumber float64 `json:"countNumber"`
						}
					}
				}
				if err := json.Unmarshal([]byte(lp.Input("policy").(string)), &policy); err != nil {
					t.Fatal(err)
				}
				sel := policy.Rules[1].Selection
				if policy.Rules[0].Selection.TagStatus != "untagged" || sel.TagStatus != "tagged" || sel.CountNumber != keep[stack] {
					t.Errorf("lifecycle %+v", policy)
				}
			}
			for _, d := range g.OfType("kubernetes:apps/v1:Deployment") {
				c, _ := d.Lookup("spec.template.spec.containers")
				image := c.([]any)[0].(map[string]any)["image"]
				if image != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/"+prefix+"personalization-ui:1.0.0" && d.Name == "personalization-ui" {
					t.Errorf("the UI runs %v, want its tag in its repository", image)
				}
			}
		})
	}
}

// TestRepositoryPolicyNamesPullersAndPushers: the nodes pull, the deploy
// role pushes, each exactly the actions of its part.
func TestRepositoryPolicyNamesPullersAndPushers(t *testing.T) {
	g := platformtest.Render(t, "staging", nil)
	for _, p := range children(t, g, "aws:ecr/repositoryPolicy:RepositoryPolicy") {
		var doc struct {
			Statement []struct {
				Effect    string
				Principal map[string][]string
				Action    []string
			}
		}
		if err := json.Unmarshal([]byte(p.Input("policy").(string)), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Statement) != 2 {
			t.Fatalf("%s: %d statements", p.Name, len(doc.Statement))
		}
		pull, push := doc.Statement[0], doc.Statement[1]
		if !reflect.DeepEqual(pull.Principal["AWS"], []string{"arn:aws:iam::123456789012:role/cluster-nodes"}) || !slices.Equal(pull.Action, registry.PullActions) {
			t.Errorf("%s: pull %+v", p.Name, pull)
		}
		if !reflect.DeepEqual(push.Principal["AWS"], []string{"arn:aws:iam::123456789012:role/personalization-platform-deploy-staging"}) || !slices.Equal(push.Action, registry.PushActions) {
			t.Errorf("%s: push %+v", p.Name, push)
		}
	}
}

func TestLifecycleRefusesNothingKept(t *testing.T) {
	for _, tt := range [][2]int{{0, 7}, {10, 0}} {
		if _, err := registry.LifecyclePolicy(tt[0], tt[1]); err == nil {
			t.Errorf("LifecyclePolicy(%d, %d) accepted", tt[0], tt[1])
		}
	}
}
