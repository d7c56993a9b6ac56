package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// kubeconfig builds a kubeconfig that authenticates with `aws eks
// get-token` (no long-lived credential in it), as a secret output: it still
// names the cluster's endpoint and CA, which are nobody else's business.
func kubeconfig(cluster *eks.Cluster, region string) pulumi.StringOutput {
	out := pulumi.All(cluster.Name, cluster.Endpoint, cluster.CertificateAuthority.Data()).ApplyT(
		func(v []any) (string, error) {
			name, endpoint := v[0].(string), v[1].(string)
			ca, _ := v[2].(*string)
			caData := ""
			if ca != nil {
				caData = *ca
			}
			return kubeconfigJSON(name, endpoint, caData, region)
		}).(pulumi.StringOutput)
	return pulumi.ToSecret(out).(pulumi.StringOutput)
}

func kubeconfigJSON(name, endpoint, caData, region string) (string, error) {
	doc := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": name,
		"clusters": []any{map[string]any{
			"name":    name,
			"cluster": map[string]any{"server": endpoint, "certificate-authority-data": caData},
		}},
		"contexts": []any{map[string]any{
			"name":    name,
			"context": map[string]any{"cluster": name, "user": name},
		}},
		"users": []any{map[string]any{
			"name": name,
			"user": map[string]any{"exec": map[string]any{
				"apiVersion": "client.authentication.k8s.io/v1beta1",
				"command":    "aws",
				"args":       []string{"eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"},
			}},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("kubeconfig: %w", err)
	}
	return string(b), nil
}
