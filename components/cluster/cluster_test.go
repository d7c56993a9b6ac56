package cluster_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/personalization/platform/components/cluster"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/stacks"
)

func TestControlPlane(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			eks := platformtest.One(t, g, "aws:eks/cluster:Cluster")
			key := platformtest.Child(t, g, cluster.TypeToken, "aws:kms/key:Key")

			if got, _ := eks.Lookup("encryptionConfig.provider.keyArn"); got != "arn:aws:kms:eu-west-1:123456789012:key/"+key.Name {
				t.Errorf("secrets encrypted with %v, want the cluster's key", got)
			}
			if got, _ := eks.Lookup("encryptionConfig.resources"); !equalStrings(got, []string{"secrets"}) {
				t.Errorf("encryption covers %v", got)
			}
			if key.Input("enableKeyRotation") != true {
				t.Error("KMS key rotation is off")
			}
			if got := eks.Input("enabledClusterLogTypes"); !equalStrings(got, cluster.ControlPlaneLogTypes()) {
				t.Errorf("log types %v, want all five", got)
			}
			if got, _ := eks.Lookup("accessConfig.authenticationMode"); got != "API" {
				t.Errorf("authentication mode %v, want API (access entries only)", got)
			}
			if got, _ := eks.Lookup("vpcConfig.endpointPrivateAccess"); got != true {
				t.Error("private endpoint is off")
			}
			// Public only to the deploy runners' egress, found by tag.
			if got, _ := eks.Lookup("vpcConfig.endpointPublicAccess"); got != true {
				t.Error("public endpoint is off by default: the pipelines could not reach the API")
			}
			var runners []any
			for _, ip := range offline.RunnerEgressIPs() {
				runners = append(runners, ip+"/32")
			}
			if got, _ := eks.Lookup("vpcConfig.publicAccessCidrs"); !reflect.DeepEqual(got, runners) {
				t.Errorf("public access CIDRs %v, want the runners' %v", got, runners)
			}
			if got, _ := eks.Lookup("vpcConfig.subnetIds"); !equalStrings(got, privateSubnets(g)) {
				t.Errorf("cluster subnets %v, want the private subnets", got)
			}
			if eks.Input("version") != stacks.Defaults(stacks.Environment(stack)).Cluster.Version {
				t.Errorf("version %v", eks.Input("version"))
			}
			logs := logGroup(g, "/aws/eks/personalization-platform-"+stack+"/cluster")
			if logs == nil || logs.Input("retentionInDays") == nil {
				t.Error("no control-plane log group with a retention")
			} else if !slices.Contains(eks.Dependencies, logs.URN) {
				t.Error("the cluster does not wait for its log group")
			}
			wantProtect := stack == "production"
			if eks.Protect != wantProtect || key.Protect != wantProtect {
				t.Errorf("cluster protect %v, key protect %v; want %v", eks.Protect, key.Protect, wantProtect)
			}
		})
	}
}

// TestPublicEndpointAllowList: listed CIDRs are used as they are; an empty
// list is the runners' tagged addresses, and without a bootstrap in the
// account that is one error naming the key before anything is created; the
// endpoint off looks nothing up.
func TestPublicEndpointAllowList(t *testing.T) {
	const key = "personalization-platform:cluster"
	g := platformtest.Render(t, "staging", map[string]string{key: `{"publicAccessCidrs": ["203.0.113.0/24"]}`})
	eks := platformtest.One(t, g, "aws:eks/cluster:Cluster")
	if got, _ := eks.Lookup("vpcConfig.publicAccessCidrs"); !equalStrings(got, []string{"203.0.113.0/24"}) {
		t.Errorf("public access CIDRs %v", got)
	}

	g, err := platformtest.RenderIn(t, "staging", nil, offline.AccountState{WithoutRunners: true})
	if err == nil || !strings.Contains(err.Error(), "cluster.publicAccessCidrs") || !strings.Contains(err.Error(), "run the bootstrap project") {
		t.Errorf("no runners in the account: %v", err)
	}
	for _, r := range g.Resources {
		if r.Custom && !r.IsProvider() {
			t.Errorf("%s registered before the error", r.URN)
		}
	}

	g, err = platformtest.RenderIn(t, "staging", map[string]string{key: `{"endpointPublicAccess": false}`}, offline.AccountState{WithoutRunners: true})
	if err != nil {
		t.Fatalf("a private-only cluster needs no runners' addresses: %v", err)
	}
	eks = platformtest.One(t, g, "aws:eks/cluster:Cluster")
	if got, _ := eks.Lookup("vpcConfig.endpointPublicAccess"); got != false {
		t.Errorf("endpoint public access %v", got)
	}
}

// TestAccessEntries: the preview role reads the whole cluster (previews
// and the drift check see the Kubernetes layer), the break-glass role and
// each configured admin administer it; no aws-auth ConfigMap.
func TestAccessEntries(t *testing.T) {
	admin := "arn:aws:iam::123456789012:role/platform-admins"
	g := platformtest.Render(t, "dev", map[string]string{
		"personalization-platform:cluster": `{"adminPrincipals": ["` + admin + `"]}`,
	})
	role := func(name string) string { return "arn:aws:iam::" + offline.Account + ":role/" + name }
	want := map[string]string{
		role(stacks.PreviewRoleName):    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
		role(stacks.BreakGlassRoleName): "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
		admin:                           "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
	}
	entries := map[string]*graph.Resource{}
	for _, e := range g.OfType("aws:eks/accessEntry:AccessEntry") {
		if e.Input("type") != "STANDARD" {
			t.Errorf("access entry %s: type %v", e.Name, e.Input("type"))
		}
		entries[e.URN] = e
	}
	got := map[string]string{}
	for _, a := range g.OfType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation") {
		if scope, _ := a.Lookup("accessScope.type"); scope != "cluster" {
			t.Errorf("%s: scope %v", a.Name, scope)
		}
		for _, dep := range a.PropertyDependencies["principalArn"] {
			if e := entries[dep]; e != nil {
				got[e.Input("principalArn").(string)] = a.Input("policyArn").(string)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("access policies by principal %v, want %v", got, want)
	}
	for _, cm := range g.OfType("kubernetes:core/v1:ConfigMap") {
		if name, _ := cm.Lookup("metadata.name"); name == "aws-auth" {
			t.Error("an aws-auth ConfigMap is managed")
		}
	}
}

func TestNodeGroupsFollowTheProfile(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			want := stacks.Defaults(stacks.Environment(stack)).Cluster.NodeGroups
			groups := g.OfType("aws:eks/nodeGroup:NodeGroup")
			if len(groups) != len(want) {
				t.Fatalf("%d node groups, want %d", len(groups), len(want))
			}
			ng, spec := groups[0], want[0]
			for field, value := range map[string]int{"minSize": spec.MinSize, "desiredSize": spec.DesiredSize, "maxSize": spec.MaxSize} {
				if got, _ := ng.Lookup("scalingConfig." + field); got != float64(value) && got != value {
					t.Errorf("%s = %v, want %d", field, got, value)
				}
			}
			if ng.Input("capacityType") != string(spec.CapacityType) {
				t.Errorf("capacity type %v, want %s", ng.Input("capacityType"), spec.CapacityType)
			}
			if !equalStrings(ng.Input("instanceTypes"), spec.InstanceTypes) {
				t.Errorf("instance types %v", ng.Input("instanceTypes"))
			}
			if !equalStrings(ng.Input("subnetIds"), privateSubnets(g)) {
				t.Errorf("node group subnets %v, want every private subnet", ng.Input("subnetIds"))
			}
			lt := platformtest.One(t, g, "aws:ec2/launchTemplate:LaunchTemplate")
			for path, want := range map[string]any{
				"metadataOptions.httpTokens":              "required",
				"metadataOptions.httpPutResponseHopLimit": 1,
			} {
				got, _ := lt.Lookup(path)
				if got != want && got != float64(1) {
					t.Errorf("launch template %s = %v, want %v", path, got, want)
				}
			}
			ebs := lt.Input("blockDeviceMappings").([]any)[0].(map[string]any)["ebs"].(map[string]any)
			if ebs["encrypted"] != "true" || ebs["volumeType"] != "gp3" {
				t.Errorf("root volume %v, want encrypted gp3", ebs)
			}
			if stack == "production" {
				zones := len(g.Outputs["availabilityZones"].([]any))
				if spec.MinSize < zones || zones < 3 {
					t.Errorf("production runs %d nodes at least over %d zones, want at least 3 over 3", spec.MinSize, zones)
				}
			}
		})
	}
}

// TestIRSATrustNamesExactlyOneServiceAccount checks every IRSA role of the
// cluster: the trust policy's sub is the one namespace/service account the
// role is for, and aud is STS.
func TestIRSATrustNamesExactlyOneServiceAccount(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	want := map[string]string{
		"cluster-vpc-cni":       "system:serviceaccount:kube-system:aws-node",
		"cluster-ebs-csi":       "system:serviceaccount:kube-system:ebs-csi-controller-sa",
		"cluster-autoscaler":    "system:serviceaccount:kube-system:cluster-autoscaler",
		"cluster-lb-controller": "system:serviceaccount:kube-system:aws-load-balancer-controller",
	}
	for _, role := range g.OfType("aws:iam/role:Role") {
		sub, ok := want[role.Name]
		if !ok {
			continue
		}
		delete(want, role.Name)
		var doc struct {
			Statement []struct {
				Principal map[string]string
				Action    []string
				Condition map[string]map[string]string
			}
		}
		if err := json.Unmarshal([]byte(role.Input("assumeRolePolicy").(string)), &doc); err != nil {
			t.Fatalf("%s: %v", role.Name, err)
		}
		if len(doc.Statement) != 1 {
			t.Fatalf("%s: %d statements", role.Name, len(doc.Statement))
		}
		st := doc.Statement[0]
		if !strings.Contains(st.Principal["Federated"], ":oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/") {
			t.Errorf("%s trusts %v", role.Name, st.Principal)
		}
		eq := st.Condition["StringEquals"]
		var gotSub, gotAud string
		for k, v := range eq {
			switch {
			case strings.HasSuffix(k, ":sub"):
				gotSub = v
			case strings.HasSuffix(k, ":aud"):
				gotAud = v
			}
		}
		if gotSub != sub || gotAud != "sts.amazonaws.com" || len(st.Condition) != 1 {
			t.Errorf("%s: sub %q aud %q conditions %v; want sub %q", role.Name, gotSub, gotAud, st.Condition, sub)
		}
	}
	for name := range want {
		t.Errorf("no IRSA role %s", name)
	}
}

func TestAddonsAndControllers(t *testing.T) {
	g := platformtest.Render(t, "dev", nil)
	addons := map[string]*graph.Resource{}
	for _, a := range g.OfType("aws:eks/addon:Addon") {
		addons[a.Input("addonName").(string)] = a
	}
	for _, name := range []string{"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"} {
		if addons[name] == nil {
			t.Errorf("no %s add-on", name)
		}
	}
	if addons["aws-ebs-csi-driver"] != nil && addons["aws-ebs-csi-driver"].Input("serviceAccountRoleArn") == nil {
		t.Error("the EBS CSI driver has no IRSA role")
	}
	ng := platformtest.One(t, g, "aws:eks/nodeGroup:NodeGroup")
	if !slices.Contains(ng.Dependencies, addons["vpc-cni"].URN) {
		t.Error("nodes do not wait for the CNI")
	}
	if !slices.Contains(addons["coredns"].Dependencies, ng.URN) {
		t.Error("CoreDNS does not wait for nodes")
	}
	sc := platformtest.One(t, g, "kubernetes:storage.k8s.io/v1:StorageClass")
	if p, _ := sc.Lookup("parameters.type"); p != "gp3" {
		t.Errorf("storage class type %v", p)
	}
	if p, _ := sc.Lookup("parameters.encrypted"); p != "true" {
		t.Error("default storage class is not encrypted")
	}
	if a, _ := sc.Lookup("metadata.annotations"); a.(map[string]any)["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Error("gp3 is not the default storage class")
	}
	charts := map[string]string{}
	for _, r := range g.OfType("kubernetes:helm.sh/v3:Release") {
		charts[r.Input("chart").(string)] = r.Input("version").(string)
		if r.Provider == "" || !strings.Contains(r.Provider, "pulumi:providers:kubernetes") {
			t.Errorf("%s is not deployed through the cluster's provider", r.Name)
		}
	}
	if charts[cluster.ClusterAutoscalerChart] != cluster.ClusterAutoscalerChartVersion ||
		charts[cluster.LoadBalancerControllerChart] != cluster.LoadBalancerControllerVersion {
		t.Errorf("charts %v, want the pinned autoscaler and load balancer controller", charts)
	}
}

func TestKubeconfigIsSecretAndUsesGetToken(t *testing.T) {
	g := platformtest.Render(t, "dev", nil)
	if g.Outputs["kubeconfig"] != graph.Secret {
		t.Errorf("kubeconfig output is %v, want a secret", g.Outputs["kubeconfig"])
	}
	p := platformtest.One(t, g, "pulumi:providers:kubernetes")
	if p.Input("kubeconfig") != graph.Secret {
		t.Error("the Kubernetes provider's kubeconfig is not secret")
	}
	for _, out := range []string{"clusterName", "clusterEndpoint", "oidcProviderArn", "nodeSecurityGroupId"} {
		if v, ok := g.Outputs[out].(string); !ok || v == "" {
			t.Errorf("output %s = %v", out, g.Outputs[out])
		}
	}
}

func TestTrustPolicy(t *testing.T) {
	doc := cluster.TrustPolicy("arn:aws:iam::1:oidc-provider/oidc.example/id/X", "https://oidc.example/id/X", "personalization", "backup").JSON()
	for _, want := range []string{
		`"oidc.example/id/X:sub":"system:serviceaccount:personalization:backup"`,
		`"oidc.example/id/X:aud":"sts.amazonaws.com"`,
		`"Federated":"arn:aws:iam::1:oidc-provider/oidc.example/id/X"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("trust policy lacks %s: %s", want, doc)
		}
	}
}

func privateSubnets(g *graph.Graph) []string {
	var ids []string
	for _, v := range g.Outputs["privateSubnetIds"].([]any) {
		ids = append(ids, v.(string))
	}
	return ids
}

func logGroup(g *graph.Graph, name string) *graph.Resource {
	for _, r := range g.OfType("aws:cloudwatch/logGroup:LogGroup") {
		if r.Input("name") == name {
			return r
		}
	}
	return nil
}

func equalStrings(got any, want []string) bool {
	list, ok := got.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	for i, v := range list {
		if v != want[i] {
			return false
		}
	}
	return true
}
